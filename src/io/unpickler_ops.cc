// The restricted pickle VM's opcode switch. Anything not handled here is an error naming
// the opcode; the torch models (REDUCE, BINPERSID, BUILD) live in unpickler_torch.cc.
#include <cstring>
#include <utility>

#include "io/unpickler_torch.h"
#include "io/unpickler_vm.h"

namespace lorank::io::detail {
namespace {

// Opcode names for messages: every opcode of protocols 0-5, so that an unsupported one is
// reported by name ("unsupported opcode 0x81 NEWOBJ").
// A two-column table reads better than 70 one-line cases.
// clang-format off
std::string_view opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK";              case '.': return "STOP";
    case '0': return "POP";               case '1': return "POP_MARK";
    case '2': return "DUP";               case 'F': return "FLOAT";
    case 'I': return "INT";               case 'J': return "BININT";
    case 'K': return "BININT1";           case 'L': return "LONG";
    case 'M': return "BININT2";           case 'N': return "NONE";
    case 'P': return "PERSID";            case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";            case 'S': return "STRING";
    case 'T': return "BINSTRING";         case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";           case 'X': return "BINUNICODE";
    case 'a': return "APPEND";            case 'b': return "BUILD";
    case 'c': return "GLOBAL";            case 'd': return "DICT";
    case '}': return "EMPTY_DICT";        case 'e': return "APPENDS";
    case 'g': return "GET";               case 'h': return "BINGET";
    case 'i': return "INST";              case 'j': return "LONG_BINGET";
    case 'l': return "LIST";              case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";               case 'p': return "PUT";
    case 'q': return "BINPUT";            case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";           case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";       case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";          case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";           case 0x82: return "EXT1";
    case 0x83: return "EXT2";             case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";           case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";           case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";         case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";            case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";      case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";        case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";        case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";     case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";            case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";      case 0x98: return "READONLY_BUFFER";
    default: return "an unknown opcode";
  }
}
// clang-format on

}  // namespace

Status Vm::step(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      LORANK_ASSIGN_OR_RETURN(uint64_t proto, read_le(1));
      if (proto < 2 || proto > 5) return not_supported("pickle protocol {}", proto);
      return Status();
    }
    case 0x95: {  // FRAME: a read-ahead hint only; the whole pickle is already in memory
      LORANK_ASSIGN_OR_RETURN(uint64_t n, read_le(8));
      if (n > bytes_.size() - pos_) return corruption("FRAME of {} bytes past the end", n);
      return Status();
    }
    case '.': {  // STOP
      LORANK_ASSIGN_OR_RETURN(v_.root, pop());
      if (!stack_.empty() || !marks_.empty()) {
        return corruption("STOP leaves {} values and {} marks behind", stack_.size(),
                          marks_.size());
      }
      stopped_ = true;
      return Status();
    }
    case '}':
      return push_new(PickleKind::kDict);
    case ']':
      return push_new(PickleKind::kList);
    case ')':
      return push_new(PickleKind::kTuple);
    case 'N':
      return push_new(PickleKind::kNone);
    case 0x88:    // NEWTRUE
    case 0x89: {  // NEWFALSE
      PickleObject o;
      o.kind = PickleKind::kBool;
      o.integer = op == 0x88 ? 1 : 0;
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
      return push(id);
    }
    case '(':  // MARK
      if (marks_.size() >= kPickleMaxMarks) {
        return corruption("more than {} nested MARKs (limit)", kPickleMaxMarks);
      }
      marks_.push_back(stack_.size());
      return Status();
    case 't':     // TUPLE
    case 0x85:    // TUPLE1
    case 0x86:    // TUPLE2
    case 0x87: {  // TUPLE3
      std::size_t from = 0;
      if (op == 't') {
        LORANK_ASSIGN_OR_RETURN(from, pop_mark());
      } else {
        const std::size_t n = op - 0x84u;
        const std::size_t floor = marks_.empty() ? 0 : marks_.back();
        if (stack_.size() - floor < n) return corruption("stack underflow");
        from = stack_.size() - n;
      }
      PickleObject o;
      o.kind = PickleKind::kTuple;
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
      stack_.push_back(id);  // a placeholder above the items; cannot exceed the limit
      LORANK_RETURN_IF_ERROR(add_items(id, from, PickleKind::kTuple, stack_.size() - 1));
      return Status();
    }
    case 's':    // SETITEM
    case 'a': {  // APPEND
      const std::size_t n = op == 's' ? 2 : 1;
      const std::size_t floor = marks_.empty() ? 0 : marks_.back();
      if (stack_.size() - floor < n + 1) return corruption("stack underflow");
      const std::size_t from = stack_.size() - n;
      return add_items(stack_[from - 1], from, op == 's' ? PickleKind::kDict : PickleKind::kList,
                       stack_.size());
    }
    case 'u':    // SETITEMS
    case 'e': {  // APPENDS
      LORANK_ASSIGN_OR_RETURN(std::size_t from, pop_mark());
      const std::size_t floor = marks_.empty() ? 0 : marks_.back();
      if (from <= floor) return corruption("stack underflow");
      return add_items(stack_[from - 1], from, op == 'u' ? PickleKind::kDict : PickleKind::kList,
                       stack_.size());
    }
    case '0':
      return pop().status();  // POP
    case '1': {               // POP_MARK: drops the mark and everything above it
      LORANK_ASSIGN_OR_RETURN(std::size_t from, pop_mark());
      stack_.resize(from);
      return Status();
    }
    case '2': {  // DUP
      LORANK_ASSIGN_OR_RETURN(PickleId id, top());
      return push(id);
    }
    case 'J':    // BININT
    case 'K':    // BININT1
    case 'M': {  // BININT2
      const std::size_t n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
      LORANK_ASSIGN_OR_RETURN(uint64_t raw, read_le(n));
      PickleObject o;
      o.kind = PickleKind::kInt;
      o.integer =
          op == 'J' ? static_cast<int32_t>(static_cast<uint32_t>(raw)) : static_cast<int64_t>(raw);
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
      return push(id);
    }
    case 0x8a: {  // LONG1: little-endian two's complement of n bytes
      LORANK_ASSIGN_OR_RETURN(uint64_t n, read_le(1));
      if (n > 8) return not_supported("LONG1 of {} bytes (wider than 64 bits)", n);
      LORANK_ASSIGN_OR_RETURN(uint64_t raw, read_le(n));
      if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) raw |= ~uint64_t{0} << (8 * n);
      PickleObject o;
      o.kind = PickleKind::kInt;
      o.integer = static_cast<int64_t>(raw);
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
      return push(id);
    }
    case 'G': {  // BINFLOAT: big-endian IEEE double
      LORANK_ASSIGN_OR_RETURN(uint64_t le_bits, read_le(8));
      const uint64_t bits = __builtin_bswap64(le_bits);
      PickleObject o;
      o.kind = PickleKind::kFloat;
      std::memcpy(&o.real, &bits, sizeof bits);
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(o)));
      return push(id);
    }
    case 'X':     // BINUNICODE
    case 0x8c:    // SHORT_BINUNICODE
    case 0x8d: {  // BINUNICODE8
      LORANK_ASSIGN_OR_RETURN(uint64_t n, read_le(op == 'X' ? 4 : op == 0x8c ? 1 : 8));
      LORANK_ASSIGN_OR_RETURN(std::string_view s, read_bytes(n));
      return push_string(s);
    }
    case 'q':    // BINPUT
    case 'r': {  // LONG_BINPUT
      LORANK_ASSIGN_OR_RETURN(uint64_t index, read_le(op == 'q' ? 1 : 4));
      return memo_put(index);
    }
    case 0x94:
      return memo_put(memo_count_);  // MEMOIZE
    case 'h':                        // BINGET
    case 'j': {                      // LONG_BINGET
      LORANK_ASSIGN_OR_RETURN(uint64_t index, read_le(op == 'h' ? 1 : 4));
      if (index >= memo_.size() || memo_[index] == 0) {
        return corruption("memo index {} was never stored", index);
      }
      return push(memo_[index] - 1);
    }
    case 'c': {  // GLOBAL "module\nname\n"
      LORANK_ASSIGN_OR_RETURN(std::string_view module, read_line());
      LORANK_ASSIGN_OR_RETURN(std::string_view name, read_line());
      return push_global(module, name);
    }
    case 0x93: {  // STACK_GLOBAL
      LORANK_ASSIGN_OR_RETURN(PickleId name, pop());
      LORANK_ASSIGN_OR_RETURN(PickleId module, pop());
      if (v_.objects[name].kind != PickleKind::kString ||
          v_.objects[module].kind != PickleKind::kString) {
        return corruption("STACK_GLOBAL needs two strings");
      }
      return push_global(v_.objects[module].text, v_.objects[name].text);
    }
    case 'R': {  // REDUCE
      LORANK_ASSIGN_OR_RETURN(PickleId args, pop());
      LORANK_ASSIGN_OR_RETURN(PickleId callable, pop());
      LORANK_ASSIGN_OR_RETURN(
          PickleId id, pickle_torch::reduce(v_, callable, args,
                                            [this](PickleObject o) { return add(std::move(o)); }));
      return push(id);
    }
    case 'Q': {  // BINPERSID
      LORANK_ASSIGN_OR_RETURN(PickleId pid, pop());
      LORANK_ASSIGN_OR_RETURN(PickleObject s, pickle_torch::make_storage(v_, pid));
      LORANK_ASSIGN_OR_RETURN(PickleId id, add(std::move(s)));
      return push(id);
    }
    case 'b': {  // BUILD
      LORANK_ASSIGN_OR_RETURN(PickleId state, pop());
      LORANK_ASSIGN_OR_RETURN(PickleId target, top());
      return pickle_torch::build(v_, target, state);
    }
    default:
      return not_supported("unsupported opcode 0x{:02x} {}", op, opcode_name(op));
  }
}

}  // namespace lorank::io::detail
