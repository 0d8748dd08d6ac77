// Names the calling thread, so `top -H`, `ps -L`, perf, gdb and
// /proc/PID/task/*/comm tell the engine's threads apart: "ovs.writer" (the
// group-commit writer), "ovs.events" (the event bus), "ovs.tool" (the
// attempt pool, where tool bodies run), "ovs.http" (the HTTP front's I/O),
// "ovs.janitor", "ovs.files", "ovs.webhooks", "ovs.log" (the log's
// writer). CAF's own workers call
// themselves "caf.multiplexer" (CAF 0.17).
// Linux keeps the first 15 bytes.
#pragma once

#include <pthread.h>

namespace overseer::tools {

inline void name_this_thread(const char* name) noexcept { (void)::pthread_setname_np(::pthread_self(), name); }

}  // namespace overseer::tools
