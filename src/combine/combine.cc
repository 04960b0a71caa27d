// combine_adapters: the weighted factors of every module stacked side by side, then
// resize_adapter on the stack.
#include "lorank/combine.h"

#include <fmt/format.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>
#include <set>

#include "adapter/peft_config.h"
#include "adapter/widen_factor.h"
#include "io/json_text.h"
#include "lorank/module_names.h"

namespace lorank {
namespace {

// What the stacked adapter's views point into, plus every input's storage (names and
// passthrough tensors still borrow from them).
struct StackStorage {
  std::vector<std::shared_ptr<const void>> inputs;
  std::deque<std::vector<std::byte>> buffers;
};

struct Contribution {
  std::size_t adapter = 0;
  const LoraModule* module = nullptr;
};

std::string shape_text(const LoraModule& m) {
  return fmt::format("{} [{}, {}]", module_kind_name(m.kind), m.out, m.in);
}

std::span<const std::byte> own(StackStorage& st, const std::vector<double>& values) {
  std::vector<std::byte>& buf = st.buffers.emplace_back(values.size() * sizeof(double));
  std::memcpy(buf.data(), values.data(), buf.size());
  return buf;
}

// One stacked module: B = [c₁B₁ … cₙBₙ] (out × R), A = [A₁; …; Aₙ] (R × in) with
// cᵢ = wᵢ·sᵢ/s_ref, so that s_ref·B·A = Σ wᵢ·sᵢ·Bᵢ·Aᵢ; stored like the first module
// (mlx_lm transposed), as F64 so that no weight is rounded before the SVD.
Result<LoraModule> stack_module(std::span<const Adapter> adapters, std::span<const double> w,
                                const std::vector<Contribution>& parts, StackStorage& st) {
  const LoraModule& first = *parts.front().module;
  double s_ref = 0.0;
  for (const Contribution& c : parts) {
    if (c.module->scale != 0.0) {
      s_ref = c.module->scale;
      break;
    }
  }
  std::size_t rank = 0;
  for (const Contribution& c : parts) rank += c.module->rank;
  std::vector<double> b(first.out * rank), a(rank * first.in), factor;
  std::size_t offset = 0;  // the first stacked direction of the current part
  for (const Contribution& c : parts) {
    const LoraModule& m = *c.module;
    const Adapter& from = adapters[c.adapter];
    const double coefficient = s_ref == 0.0 ? 0.0 : w[c.adapter] * m.scale / s_ref;
    LORANK_RETURN_IF_ERROR(widen_factor_finite(from, m, Factor::kB, factor));
    for (std::size_t i = 0; i < m.out; ++i) {
      for (std::size_t k = 0; k < m.rank; ++k) b[i * rank + offset + k] = coefficient * factor[i * m.rank + k];
    }
    LORANK_RETURN_IF_ERROR(widen_factor_finite(from, m, Factor::kA, factor));
    std::copy(factor.begin(), factor.end(), a.begin() + static_cast<std::ptrdiff_t>(offset * m.in));
    offset += m.rank;
  }
  LoraModule out = first;
  out.rank = rank;
  out.scale = s_ref == 0.0 ? 1.0 : s_ref;
  to_stored_order(first, Factor::kA, a);
  to_stored_order(first, Factor::kB, b);
  for (auto [view, values, rank_dim] : {std::tuple{&out.A, &a, first.transposed ? 1 : 0},
                                        std::tuple{&out.B, &b, first.transposed ? 0 : 1}}) {
    view->dtype = DType::kF64;
    view->shape.dims.at(static_cast<std::size_t>(rank_dim)) = static_cast<int64_t>(rank);
    view->data = own(st, *values);
  }
  return out;
}

// PEFT builds LoRA layers only for target_modules: a module that only a later adapter
// adapts joins the first config's list (PEFT list semantics: the last path segment).
Status widen_peft_targets(Adapter& stacked, std::vector<std::string>& warnings) {
  if (stacked.format != AdapterFormat::kPeft || !stacked.peft || stacked.peft->raw_json.empty()) {
    return Status();
  }
  bool too_deep = false;
  auto config = io::parse_json_capped<nlohmann::ordered_json>(stacked.peft->raw_json, too_deep);
  if (!config.is_object() || !config.contains("target_modules")) return Status();
  auto& targets = config["target_modules"];
  if (!targets.is_array()) {
    warnings.push_back("the first adapter's target_modules is not a list: check that it covers "
                       "every combined module");
    return Status();
  }
  std::set<std::string> listed;
  for (const auto& t : targets) {
    if (t.is_string()) listed.insert(t.get<std::string>());
  }
  bool added = false;
  for (const LoraModule& m : stacked.modules) {
    const std::string path = base_relative_name(m.name);
    const std::string last = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    if (listed.contains(last) || listed.contains(path)) continue;
    listed.insert(last);
    targets.push_back(last);
    added = true;
  }
  if (!added) return Status();
  const std::string text = io::dump_json_shallow(config);
  LORANK_ASSIGN_OR_RETURN(PeftConfig parsed, adapter::parse_peft_config(text, *stacked.config_path));
  parsed.raw_json = text;
  stacked.peft = std::move(parsed);
  return Status();
}

Status check_same_base(std::span<const Adapter> adapters, const std::vector<Contribution>& parts) {
  const Contribution& first = parts.front();
  for (const Contribution& c : parts) {
    const LoraModule& m = *c.module;
    if (m.magnitude) {
      return not_supported("module '{}' of '{}' is DoRA: its magnitude rescales W + ΔW and does "
                           "not add; combine plain LoRA adapters", m.name,
                           adapters[c.adapter].weights_path.string());
    }
    if (m.kind != first.module->kind || m.out != first.module->out || m.in != first.module->in) {
      return invalid_data("module '{}': '{}' has {}, '{}' has {}: the adapters do not share a base",
                          m.name, adapters[first.adapter].weights_path.string(),
                          shape_text(*first.module), adapters[c.adapter].weights_path.string(),
                          shape_text(m));
    }
  }
  return Status();
}

}  // namespace

Result<CombineResult> combine_adapters(std::span<const Adapter> adapters,
                                       const CombineOptions& options) {
  if (adapters.size() < 2) return invalid_argument("combine needs at least two adapters");
  std::vector<double> w = options.weights;
  if (w.empty()) w.assign(adapters.size(), 1.0);
  if (w.size() != adapters.size()) {
    return invalid_argument("--weights gives {} weight(s) for {} adapters", w.size(), adapters.size());
  }
  for (double x : w) {
    if (!std::isfinite(x)) return invalid_argument("--weights: {} is not a finite number", x);
  }
  const Adapter& first = adapters.front();
  for (const Adapter& a : adapters) {
    if (a.format != first.format) {
      return invalid_data("'{}' is a {} adapter, '{}' a {} one: combine adapters of one format",
                          first.weights_path.string(), format_name(first.format),
                          a.weights_path.string(), format_name(a.format));
    }
  }
  // Modules by name, in the first adapter's order, then new ones as they appear.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Contribution>> parts;
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    for (const LoraModule& m : adapters[i].modules) {
      auto [it, inserted] = parts.try_emplace(m.name);
      if (inserted) order.push_back(m.name);
      it->second.push_back({i, &m});
    }
  }
  for (std::size_t i = 1; i < adapters.size(); ++i) {
    const bool shares = std::any_of(adapters[i].modules.begin(), adapters[i].modules.end(),
                                    [&](const LoraModule& m) { return parts.at(m.name).front().adapter == 0; });
    if (!shares) {
      return invalid_data("'{}' adapts no module that '{}' adapts: the adapters do not share a base",
                          adapters[i].weights_path.string(), first.weights_path.string());
    }
  }
  CombineResult result;
  auto storage = std::make_shared<StackStorage>();
  for (const Adapter& a : adapters) storage->inputs.push_back(a.storage);
  Adapter stacked = first;
  stacked.modules.clear();
  std::map<std::string_view, const TensorView*> replaced;  // first adapter's factor → new view
  std::size_t partial = 0;
  for (const std::string& name : order) {
    const std::vector<Contribution>& p = parts.at(name);
    LORANK_RETURN_IF_ERROR(check_same_base(adapters, p));
    partial += p.size() < adapters.size() ? 1 : 0;
    LORANK_ASSIGN_OR_RETURN(LoraModule m, stack_module(adapters, w, p, *storage));
    stacked.modules.push_back(std::move(m));
  }
  for (std::size_t i = 0; i < stacked.modules.size(); ++i) {
    const LoraModule& m = stacked.modules[i];
    const std::vector<Contribution>& p = parts.at(order[i]);
    if (p.front().adapter == 0) {
      replaced[m.A.name] = &m.A;
      replaced[m.B.name] = &m.B;
    } else {  // a module the first adapter lacks: its tensors join the output
      stacked.tensors.push_back(m.A);
      stacked.tensors.push_back(m.B);
      if (m.alpha_tensor) stacked.tensors.push_back(*m.alpha_tensor);
    }
  }
  for (TensorView& t : stacked.tensors) {
    if (auto it = replaced.find(t.name); it != replaced.end()) t = *it->second;
  }
  stacked.storage = storage;
  LORANK_RETURN_IF_ERROR(widen_peft_targets(stacked, result.warnings));
  if (partial > 0) {
    result.warnings.push_back(fmt::format("{} module(s) are missing from some of the {} adapters: "
                                          "each is the weighted sum of the adapters that have it",
                                          partial, adapters.size()));
  }
  for (std::size_t i = 1; i < adapters.size(); ++i) {
    if (!adapters[i].passthrough.empty()) {
      result.warnings.push_back(fmt::format(
          "'{}' has {} non-LoRA tensor(s) (modules_to_save, biases, ...): they are not combined; "
          "the output keeps the first adapter's", adapters[i].weights_path.string(),
          adapters[i].passthrough.size()));
    }
  }
  ResizeOptions resize = options.resize;
  if (!resize.dtype && !first.modules.empty()) resize.dtype = first.modules.front().A.dtype;
  if (options.cat) {
    std::size_t largest = 1;
    for (const LoraModule& m : stacked.modules) largest = std::max(largest, m.rank);
    LORANK_ASSIGN_OR_RETURN(resize.rule, RankRule::parse(fmt::format("fixed:{}", largest)));
    resize.snap = Snap::kNone;
  }
  LORANK_ASSIGN_OR_RETURN(result.resized, resize_adapter(stacked, resize));
  // "Before" is the inputs, not the stack (held in F64 only to be factorised).
  result.resized.totals.bytes_before = 0;
  for (const Adapter& a : adapters) {
    for (const TensorView& t : a.tensors) result.resized.totals.bytes_before += t.data.size();
  }
  if (options.cat) {  // fixed:max(R) caps the smaller stacks by design: not a warning here
    std::erase_if(result.resized.warnings,
                  [](const std::string& s) { return s.find("asks for more than the rank") != std::string::npos; });
  }
  return result;
}

}  // namespace lorank
