# What cmake/embed_text.cmake and cmake/embed_web.cmake share: a file's bytes
# as a C array initializer, and writing a generated source only when it
# changes (so an unchanged input recompiles nothing). Included by both.

# Sets <bytes_var> to "0x..,0x..,..." (32 bytes a line, which keeps the
# generated file readable by editors) and <size_var> to the file's size.
function(embed_file_bytes path bytes_var size_var)
  file(READ ${path} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
  set(${bytes_var} "${bytes}" PARENT_SCOPE)
  set(${size_var} ${size} PARENT_SCOPE)
endfunction()

# Writes <content> to <output> unless it already holds exactly that.
function(write_if_changed output content)
  if(EXISTS ${output})
    file(READ ${output} old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE ${output} "${content}")
endfunction()
