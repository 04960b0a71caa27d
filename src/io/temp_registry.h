// Temporary outputs (AtomicFileWriter's temp files, AtomicDirectory's temp folders) that
// must not outlive an interrupted run. Destructors clean them up on every error path; this
// registry covers what destructors cannot: SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`,
// a closed terminal). SIGKILL cannot be caught: the hidden `.NAME.tmp-XXXXXX` may then stay,
// but never the output's own name (see docs/security.md).
#ifndef LORANK_IO_TEMP_REGISTRY_H_
#define LORANK_IO_TEMP_REGISTRY_H_

#include <filesystem>
#include <mutex>

namespace lorank::io {

// Adds/removes a path (file or folder, removed recursively) to/from the registry.
void track_temp(const std::filesystem::path& path);
void untrack_temp(const std::filesystem::path& path);

// Holds off the interrupt cleanup: hold it across the rename that publishes a temp and the
// untrack_temp that follows, so an interrupt sees either the temp (and removes it) or the
// published output (and leaves it), never the output's name being removed.
std::unique_lock<std::recursive_mutex> lock_temps();

// For `main`: handles SIGINT, SIGTERM and SIGHUP by removing the tracked paths on a
// cleanup thread and ending the process by the same signal (so the exit status says what
// happened). Signals the process
// inherited as ignored (nohup, background jobs) stay ignored.
void remove_temps_on_interrupt();

}  // namespace lorank::io

#endif  // LORANK_IO_TEMP_REGISTRY_H_
