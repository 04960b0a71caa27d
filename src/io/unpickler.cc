// The restricted pickle VM: opcode decoding, stack, marks and memo. Opcode semantics
// follow the pickle protocol (PEP 307, 3154, 574); the torch models are in
// unpickler_torch.cc.
#include "core/text.h"
#include "io/unpickler.h"

#include <utility>

#include "io/unpickler_torch.h"
#include "io/unpickler_vm.h"

namespace lorank::io {
namespace {

}  // namespace

namespace detail {

Result<uint64_t> Vm::read_le(std::size_t n) {
  if (bytes_.size() - pos_ < n) return corruption("truncated: needs {} more bytes", n);
  uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | static_cast<uint64_t>(bytes_[pos_ + i]);
  pos_ += n;
  return v;
}

Result<std::string_view> Vm::read_bytes(uint64_t n) {
  // Lengths are checked against the bytes left, so a huge length allocates nothing.
  if (bytes_.size() - pos_ < n) {
    return corruption("length {} exceeds the {} bytes left", n, bytes_.size() - pos_);
  }
  const std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
  pos_ += n;
  return s;
}

Result<std::string_view> Vm::read_line() {
  const std::size_t limit = std::min(bytes_.size() - pos_, kPickleMaxGlobalNameBytes + 1);
  for (std::size_t i = 0; i < limit; ++i) {
    if (bytes_[pos_ + i] == std::byte{'\n'}) {
      LORANK_ASSIGN_OR_RETURN(std::string_view s, read_bytes(i));
      ++pos_;
      return s;
    }
  }
  return corruption("GLOBAL name without a newline in the next {} bytes", limit);
}

Result<PickleId> Vm::add(PickleObject o) {
  if (v_.objects.size() >= kPickleMaxObjects) {
    return corruption("more than {} objects (limit)", kPickleMaxObjects);
  }
  v_.objects.push_back(std::move(o));
  return static_cast<PickleId>(v_.objects.size() - 1);
}

Status Vm::push(PickleId id) {
  if (stack_.size() >= kPickleMaxStack) {
    return corruption("stack deeper than {} entries (limit)", kPickleMaxStack);
  }
  stack_.push_back(id);
  return Status();
}

Result<PickleId> Vm::pop() {
  // A MARK fences off the stack below it: popping across it is an underflow.
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return corruption("stack underflow");
  const PickleId id = stack_.back();
  stack_.pop_back();
  return id;
}

Result<PickleId> Vm::top() const {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return corruption("stack underflow");
  return stack_.back();
}

Result<std::size_t> Vm::pop_mark() {
  if (marks_.empty()) return corruption("no MARK to close");
  const std::size_t at = marks_.back();
  marks_.pop_back();
  return at;
}

Status Vm::add_items(PickleId container, std::size_t from, PickleKind want, std::size_t end) {
  PickleObject& c = v_.objects[container];
  if (c.kind != want) {
    return corruption("{} target is a {}", want == PickleKind::kDict ? "SETITEM(S)" : "APPEND(S)",
                      pickle_kind_name(c.kind));
  }
  const std::size_t n = end - from;
  if (want == PickleKind::kDict && n % 2 != 0) return corruption("SETITEMS with an odd item count");
  if (n > kPickleMaxContainerItems - container_items_) {
    return corruption("containers hold more than {} items (limit)", kPickleMaxContainerItems);
  }
  container_items_ += n;
  const auto first = stack_.begin() + static_cast<std::ptrdiff_t>(from);
  const auto last = stack_.begin() + static_cast<std::ptrdiff_t>(end);
  c.items.insert(c.items.end(), first, last);
  stack_.erase(first, last);
  return Status();
}

Status Vm::push_string(std::string_view s) {
  if (!is_valid_utf8(s)) return corruption("string is not valid UTF-8");
  PickleObject o;
  o.kind = PickleKind::kString;
  o.text = s;
  LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
  return push(id);
}

Status Vm::push_global(std::string_view module, std::string_view name) {
  std::optional<PickleObject> g = pickle_torch::resolve_global(module, name);
  if (!g) {
    // Never imported or called: naming it is all we do with it.
    return not_supported("forbidden global '{}.{}' (not on the allowlist)", printable(module),
                         printable(name));
  }
  LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(*g)));
  return push(id);
}

Status Vm::memo_put(uint64_t index) {
  if (index >= kPickleMaxObjects) {
    return corruption("memo index {} exceeds the limit {}", index, kPickleMaxObjects);
  }
  LORANK_ASSIGN_OR_RETURN(PickleId id, top());
  if (index >= memo_.size()) memo_.resize(index + 1, 0);
  if (memo_[index] == 0) ++memo_count_;
  memo_[index] = id + 1;
  return Status();
}

Result<PickleValue> Vm::run() {
  while (!stopped_) {
    op_at_ = pos_;
    if (pos_ >= bytes_.size()) return fail(corruption("truncated: no STOP opcode"));
    const auto op = static_cast<uint8_t>(bytes_[pos_++]);
    Status s = step(op);
    if (!s.ok()) return fail(std::move(s));
  }
  if (pos_ != bytes_.size()) {
    op_at_ = pos_;
    return fail(corruption("{} bytes after STOP", bytes_.size() - pos_));
  }
  return std::move(v_);
}

}  // namespace detail

std::string_view pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kString:
      return "string";
    case PickleKind::kTuple:
      return "tuple";
    case PickleKind::kList:
      return "list";
    case PickleKind::kDict:
      return "dict";
    case PickleKind::kGlobal:
      return "global";
    case PickleKind::kStorage:
      return "storage";
    case PickleKind::kTensor:
      return "tensor";
  }
  return "?";
}

Result<PickleValue> unpickle(std::span<const std::byte> bytes) { return detail::Vm(bytes).run(); }

}  // namespace lorank::io
