# bash completion for overseer (installed as
# share/bash-completion/completions/overseer by `cmake --install`).
# Tool names and job ids are asked of the server the command line names
# (--url and --token, or OVERSEER_URL and OVERSEER_TOKEN), quietly: no
# server, no suggestions.

# An option's value in COMP_WORDS, which bash splits at '=' and ':' too:
# `--url=http://h:8080` arrives as --url = http : //h : 8080. Sets
# _overseer_val to the value of the option at index $1 and _overseer_end to
# the index of its last piece.
_overseer_value() {
  local i=$(($1 + 1))
  [[ ${COMP_WORDS[i]} == = ]] && ((i++))
  _overseer_val=${COMP_WORDS[i]}
  while [[ ${COMP_WORDS[i + 1]} == : ]] && ((i + 2 < COMP_CWORD)); do
    _overseer_val+=:${COMP_WORDS[i + 2]}
    ((i += 2))
  done
  _overseer_end=$i
}

_overseer_ask() {
  local given=() i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == --url || ${COMP_WORDS[i]} == --token ]]; then
      _overseer_value "$i"
      given+=("${COMP_WORDS[i]}" "$_overseer_val")
      i=$_overseer_end
    fi
  done
  # A tab press waits two seconds at most for a server that hangs.
  overseer --request-timeout 2 "${given[@]}" "$@" 2>/dev/null
}

_overseer() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="submit get list watch logs history result cancel purge retry batch tools tool health cache"
  local global="--url --token --output --no-color --request-timeout --help"
  local cmd="" sub="" positional=0 i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --url | --token | --output | --request-timeout | --params-file | --name | --priority | --timeout | --retries | --label | \
        --depends-on | --delay | --idempotency-key | --status | --tool | --batch | --since | --limit | --offset | \
        --level | -o | --file | --from-list | --parallel-limit | --older-than | --reason)
        _overseer_value "$i"
        i=$_overseer_end
        ;;
      -*) ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=${COMP_WORDS[i]}
        elif [[ ($cmd == batch || $cmd == cache || $cmd == tool) && -z $sub ]]; then
          sub=${COMP_WORDS[i]}
        else
          ((positional++))
        fi
        ;;
    esac
  done

  case $prev in
    --output) COMPREPLY=($(compgen -W "table json ids" -- "$cur")); return ;;
    --status) COMPREPLY=($(compgen -W "pending running retrying completed failed cancelled timed_out" -- "$cur")); return ;;
    --level) COMPREPLY=($(compgen -W "debug info warning error critical" -- "$cur")); return ;;
    --tool) COMPREPLY=($(compgen -W "$(_overseer_ask tools --output ids)" -- "$cur")); return ;;
    --depends-on) COMPREPLY=($(compgen -W "$(_overseer_ask list --output ids --limit 100)" -- "$cur")); return ;;
    --params-file | -o | --file | --from-list) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --url | --token | --request-timeout | --name | --priority | --timeout | --retries | --label | --delay | --idempotency-key | \
      --batch | --since | --limit | --offset | --parallel-limit | --older-than | --reason) return ;;
  esac

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
    return
  fi

  local opts=""
  case $cmd in
    submit) opts="--params-file --name --priority --timeout --retries --label --depends-on --delay --idempotency-key --use-cache --wait --watch --logs" ;;
    list) opts="--status --tool --name --label --batch --since --limit --offset" ;;
    watch) opts="--batch --all --logs" ;;
    logs) opts="-f --follow --level" ;;
    result) opts="-o --file" ;;
    cancel) opts="--status --tool --name --label --batch --since --older-than --all --dry-run --reason" ;;
    purge) opts="--status --tool --name --label --batch --since --older-than --all --dry-run" ;;
    retry) opts="--reason" ;;
    batch)
      [[ $sub == submit ]] && opts="--from-list --name --parallel-limit --fail-fast --wait --watch"
      [[ $sub == list ]] && opts="--status --name --limit --offset"
      [[ $sub == cancel ]] && opts="--reason"
      ;;
    cache) [[ $sub == clear ]] && opts="--tool --label" ;;
    tool) opts="--reason" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
    return
  fi

  case $cmd in
    submit) ((positional == 0)) && COMPREPLY=($(compgen -W "$(_overseer_ask tools --output ids)" -- "$cur")) ;;
    tools) ((positional == 0)) && COMPREPLY=($(compgen -W "$(_overseer_ask tools --output ids)" -- "$cur")) ;;
    get | watch | logs | history | result | cancel | retry)
      COMPREPLY=($(compgen -W "$(_overseer_ask list --output ids --limit 100)" -- "$cur")) ;;
    batch)
      if [[ -z $sub ]]; then
        COMPREPLY=($(compgen -W "submit list get watch cancel" -- "$cur"))
      elif [[ $sub == submit ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;
    cache) [[ -z $sub ]] && COMPREPLY=($(compgen -W "stats clear" -- "$cur")) ;;
    tool)
      if [[ -z $sub ]]; then
        COMPREPLY=($(compgen -W "pause resume" -- "$cur"))
      elif ((positional == 0)); then
        COMPREPLY=($(compgen -W "$(_overseer_ask tools --output ids)" -- "$cur"))
      fi
      ;;
  esac
}

complete -F _overseer overseer
