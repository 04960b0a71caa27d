// `lorank doctor`: the machine as lorank sees it (CPU, ISA levels, the kernel variant of
// each dispatched kernel, the BLAS and its threads, lorank's workers). For bug reports and
// for reproducing figures across machines (docs/kernels.md).
#include <fmt/core.h>
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "lorank/kernels.h"
#include "lorank/parallel.h"
#include "lorank/terminal_text.h"

namespace lorank::cli {
namespace {

std::string doctor_json(const RuntimeReport& r) {
  nlohmann::ordered_json j;
  j["cpu"] = r.cpu_model;
  j["isa"] = r.isa;
  j["cpu_level"] = kernel_level_name(r.cpu_level);
  j["active_level"] = kernel_level_name(r.active_level);
  j["lorank_kernels_env"] = r.kernels_env;
  nlohmann::ordered_json kernels = nlohmann::ordered_json::array();
  for (const KernelChoice& k : r.kernels) kernels.push_back({{"kernel", k.kernel}, {"variant", k.variant}});
  j["kernels"] = kernels;
  j["blas"] = {{"config", r.blas_config}, {"threads", r.blas_threads}};
  j["workers"] = r.workers;
  j["lorank_num_threads_env"] = r.threads_env;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Where the default worker count comes from, as doctor explains it.
std::string workers_source(const std::string& env) {
  if (env.empty()) return "one per core";
  if (parse_thread_count(env)) return "LORANK_NUM_THREADS";
  return fmt::format("one per core: LORANK_NUM_THREADS='{}' is not a count", escape_for_terminal(env));
}

std::string doctor_text(const RuntimeReport& r) {
  std::string out;
  out += fmt::format("cpu:          {}\n", escape_for_terminal(r.cpu_model));
  out += fmt::format("isa:          {}\n", fmt::join(r.isa, " "));
  out += fmt::format("kernel level: {} (best on this CPU: {}; LORANK_KERNELS={})\n",
                     kernel_level_name(r.active_level), kernel_level_name(r.cpu_level),
                     r.kernels_env.empty() ? "unset" : escape_for_terminal(r.kernels_env));
  out += "kernels:\n";
  for (const KernelChoice& k : r.kernels) out += fmt::format("  {:<66} {}\n", k.kernel, k.variant);
  out += fmt::format("blas:         {} ({} thread{})\n", escape_for_terminal(r.blas_config),
                     r.blas_threads, r.blas_threads == 1 ? "" : "s");
  out += fmt::format("workers:      {} ({}; --threads overrides)\n", r.workers,
                     workers_source(r.threads_env));
  return out;
}

}  // namespace

void register_doctor(CLI::App& app, CommandRegistry& registry) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand(
      "doctor",
      "Print the CPU, the instruction-set levels detected, the kernel variant each hot kernel "
      "runs (LORANK_KERNELS=generic|avx2|avx512 forces one), the BLAS and its thread count, "
      "and lorank's worker count.");
  sub->add_flag("--json", *json, "Print JSON instead of text");
  registry.add(sub, [json] {
    if (Status s = kernel_override_status(); !s.ok()) {
      print_messages({s.message() + " (ignored)"}, "warning");
    }
    const RuntimeReport report = runtime_report();
    fmt::print("{}", *json ? doctor_json(report) : doctor_text(report));
    return kExitOk;
  });
}

}  // namespace lorank::cli
