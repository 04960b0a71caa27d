// The restricted pickle VM's state, shared by unpickler.cc (stack, memo, reading) and
// unpickler_ops.cc (the opcode switch). Private to those two files.
#ifndef LORANK_IO_UNPICKLER_VM_H_
#define LORANK_IO_UNPICKLER_VM_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "io/unpickler.h"

namespace lorank::io::detail {

class Vm {
 public:
  explicit Vm(std::span<const std::byte> bytes) : bytes_(bytes) {}
  Result<PickleValue> run();

 private:
  Status step(uint8_t op);
  Status fail(Status s) const {
    return Status(s.code(), fmt::format("pickle byte {}: {}", op_at_, s.message()));
  }
  Result<uint64_t> read_le(std::size_t n);
  Result<std::string_view> read_bytes(uint64_t n);
  Result<std::string_view> read_line();
  Result<PickleId> add(PickleObject o);
  Status push(PickleId id);
  Result<PickleId> pop();
  Result<PickleId> top() const;
  Result<std::size_t> pop_mark();  // returns the stack index where the mark was
  // Appends stack_[from, end) to `container` (which must be a `want`) and erases them.
  Status add_items(PickleId container, std::size_t from, PickleKind want, std::size_t end);
  Status push_new(PickleKind kind) {
    PickleObject o;
    o.kind = kind;
    LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
    return push(id);
  }
  Status push_string(std::string_view s);
  Status push_global(std::string_view module, std::string_view name);
  Status memo_put(uint64_t index);

  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
  std::size_t op_at_ = 0;
  bool stopped_ = false;
  PickleValue v_;
  std::vector<PickleId> stack_;
  std::vector<std::size_t> marks_;
  std::vector<uint32_t> memo_;  // index -> id + 1 (0 = unset)
  std::size_t memo_count_ = 0;
  std::size_t container_items_ = 0;
};

}  // namespace lorank::io::detail

#endif  // LORANK_IO_UNPICKLER_VM_H_
