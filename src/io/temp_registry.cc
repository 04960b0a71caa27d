#include "io/temp_registry.h"

#include "lorank/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

namespace lorank::io {
namespace {

std::recursive_mutex& registry_mutex() {
  static std::recursive_mutex m;
  return m;
}

std::vector<std::filesystem::path>& registry() {
  static std::vector<std::filesystem::path> paths;
  return paths;
}

}  // namespace

void track_temp(const std::filesystem::path& path) {
  const auto lock = lock_temps();
  registry().push_back(path);
}

void untrack_temp(const std::filesystem::path& path) {
  const auto lock = lock_temps();
  auto& paths = registry();
  if (auto it = std::find(paths.begin(), paths.end(), path); it != paths.end()) paths.erase(it);
}

std::unique_lock<std::recursive_mutex> lock_temps() {
  return std::unique_lock<std::recursive_mutex>(registry_mutex());
}

// The handler only forwards the signal number through a pipe (write is async-signal-safe);
// the cleanup itself runs on an ordinary thread. A handler, not sigwait with the signals
// blocked: threads started before main (OpenBLAS's pool) would keep them unblocked.
int g_signal_pipe[2] = {-1, -1};

extern "C" void forward_signal(int sig) {
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_signal_pipe[1], &byte, 1);
}

void remove_temps_on_interrupt() {
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return;  // no cleanup, default behaviour
  std::thread([] {
    unsigned char byte = 0;
    while (::read(g_signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    const int sig = byte;
    registry_mutex().lock();  // never released: no output is published after this point
    std::size_t removed = 0;
    for (const std::filesystem::path& p : registry()) {
      std::error_code ec;
      removed += std::filesystem::remove_all(p, ec) > 0 ? 1 : 0;
    }
    std::fprintf(stderr, "lorank: interrupted (%s)%s\n", sigdescr_np(sig),
                 removed ? "; removed the unfinished output" : "");
    ::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
  }).detach();
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // An inherited SIG_IGN stays: `nohup` and background jobs of a shell rely on it.
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace lorank::io

namespace lorank {

void remove_unfinished_outputs_on_interrupt() {
  ::signal(SIGXFSZ, SIG_IGN);
  io::remove_temps_on_interrupt();
}

}  // namespace lorank
