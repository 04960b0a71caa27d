// Hostile and broken PyTorch files: each must fail with its code, a one-line message that
// names the file and the problem, and without running, allocating or looping unboundedly.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "lorank/torch_checkpoint.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"
#include "support/torch_files.h"

namespace lorank {
namespace {

using testing::PickleWriter;
using testing::TempDir;
using testing::TorchTensorSpec;
using testing::ZipWriter;
constexpr StatusCode kC = StatusCode::kCorruption;
constexpr StatusCode kNS = StatusCode::kNotSupported;

struct BadCase {
  std::string label;
  std::string bytes;
  StatusCode code;
  std::string message_part;
};

PickleWriter p2() { return PickleWriter().proto(2); }
// A checkpoint whose data.pkl is `pickle` and which has no storages.
std::string with_pickle(const std::string& pickle) { return testing::torch_zip(pickle, {}); }
std::string with_pickle(PickleWriter& w) { return with_pickle(w.bytes()); }

const TorchTensorSpec kT{.name = "t"};  // F32 [2, 3] over storage "0" of 6 elements

std::string with_tensors(const std::vector<TorchTensorSpec>& specs) {
  return testing::torch_zip(testing::state_dict_pickle(specs), specs);
}

std::vector<BadCase> pickle_cases() {
  const std::string call_ls = std::string("X\x02\x00\x00\x00ls\x85R.", 10);
  std::vector<BadCase> cases = {
      {"os.system via GLOBAL", with_pickle(p2().global("os", "system").raw(call_ls)), kNS,
       "forbidden global 'os.system' (not on the allowlist)"},
      {"posix.system via STACK_GLOBAL",
       with_pickle(PickleWriter().proto(4).raw("\x8c\x05posix\x8c\x06system\x93").raw(call_ls)),
       kNS, "forbidden global 'posix.system'"},
      {"builtins.eval", with_pickle(p2().global("builtins", "eval").raw(call_ls)), kNS,
       "forbidden global 'builtins.eval'"},
      {"subprocess.Popen via STACK_GLOBAL",
       with_pickle(p2().str("subprocess").str("Popen").raw("\x93").raw(call_ls)), kNS,
       "forbidden global 'subprocess.Popen'"},
      {"torch global not on the list", with_pickle(p2().global("torch", "load").raw(call_ls)), kNS,
       "forbidden global 'torch.load'"},
      {"newline in a STACK_GLOBAL name", with_pickle(p2().str("os\nx").str("system").raw("\x93.")),
       kNS, "forbidden global 'os\\x0ax.system'"},
      {"REDUCE on an allowlisted non-callable",
       with_pickle(p2().global("torch", "FloatStorage").op(')').op('R').op('.')), kNS,
       "global 'torch.FloatStorage' is not callable"},
      {"REDUCE on a string", with_pickle(p2().str("os.system").op(')').op('R').op('.')), kC,
       "REDUCE callable is a string, not a global"},
      {"OrderedDict with arguments",
       with_pickle(p2().global("collections", "OrderedDict").op(']').raw("\x85R.")), kNS,
       "OrderedDict with 1 constructor arguments"},
      {"unknown opcode", with_pickle(p2().raw("\xff.")), kNS,
       "pickle byte 2: unsupported opcode 0xff an unknown opcode"},
      {"INST opcode", with_pickle(p2().raw("ios\nsystem\n.")), kNS, "unsupported opcode 0x69 INST"},
      {"NEWOBJ opcode", with_pickle(p2().raw("\x81.")), kNS, "unsupported opcode 0x81 NEWOBJ"},
      {"BINBYTES opcode", with_pickle(p2().raw(std::string("B\x01\x00\x00\x00x.", 7))), kNS,
       "0x42 BINBYTES"},
      {"protocol 6", with_pickle(PickleWriter().proto(6).op('N').op('.')), kNS,
       "pickle protocol 6"},
      {"no STOP", with_pickle(p2().op('}')), kC, "pickle byte 3: truncated: no STOP opcode"},
      {"truncated argument", with_pickle(p2().raw("J\x01\x02")), kC, "truncated: needs 4 more"},
      {"bytes after STOP", with_pickle(p2().raw("N.N")), kC, "1 bytes after STOP"},
      {"stack underflow", with_pickle(p2().raw("}s.")), kC, "pickle byte 3: stack underflow"},
      {"underflow across a MARK", with_pickle(p2().raw("N(\x85.")), kC, "stack underflow"},
      {"STOP on empty stack", with_pickle(p2().op('.')), kC, "stack underflow"},
      {"TUPLE without MARK", with_pickle(p2().raw("Nt.")), kC, "no MARK to close"},
      {"MARK left open", with_pickle(p2().raw("(N.")), kC, "STOP leaves 0 values and 1 marks"},
      {"two values at STOP", with_pickle(p2().raw("NN.")), kC, "STOP leaves 1 values"},
      {"memo index never stored", with_pickle(p2().raw("h\x05.")), kC,
       "memo index 5 was never stored"},
      {"memo index huge", with_pickle(p2().raw("}r\xff\xff\xff\xff.")), kC,
       "memo index 4294967295 exceeds the limit"},
      {"BINUNICODE length 4G",
       with_pickle(p2().raw("X\xff\xff\xff\xff"
                            "ab")),
       kC, "length 4294967295 exceeds the 2 bytes left"},
      {"BINUNICODE8 length 2^63",
       with_pickle(p2().raw("\x8d").raw(testing::le_bytes(uint64_t{1} << 63, 8)).raw("ab")), kC,
       "length 9223372036854775808 exceeds"},
      {"FRAME past the end", with_pickle(p2().raw("\x95").raw(testing::le_bytes(999, 8)).raw("N.")),
       kC, "FRAME of 999 bytes past the end"},
      {"invalid UTF-8", with_pickle(p2().raw(std::string("X\x02\x00\x00\x00\xc3\x28.", 8))), kC,
       "string is not valid UTF-8"},
      {"LONG1 of 9 bytes", with_pickle(p2().raw("\x8a\x09").raw(std::string(9, '\x01')).op('.')),
       kNS, "LONG1 of 9 bytes"},
      {"GLOBAL line too long", with_pickle(p2().op('c').raw(std::string(5000, 'a'))), kC,
       "GLOBAL name without a newline in the next 257 bytes"},
      {"deep MARK nesting", with_pickle(p2().raw(std::string(5000, '('))), kC,
       "more than 1000 nested MARKs (limit)"},
      {"deep list stack", with_pickle(p2().raw(std::string(200'000, ']'))), kC,
       "stack deeper than 100000 entries (limit)"},
      {"deeply nested tuples", with_pickle(p2().op(')').raw(std::string(300'000, '\x85')).op('.')),
       kNS, "data.pkl holds a tuple, not a state dict"},
      {"object limit", with_pickle(p2().raw([] {
         std::string s;
         for (int i = 0; i < 2'000'001; ++i) s += "N0";
         return s;
       }())),
       kC, "more than 2000000 objects (limit)"},
      {"APPEND to a dict", with_pickle(p2().raw("}Na.")), kC, "APPEND(S) target is a dict"},
      {"BUILD on a plain dict", with_pickle(p2().raw("}}b.")), kNS,
       "BUILD on a dict is not supported"},
      {"root is a list", with_pickle(p2().raw("].")), kNS,
       "data.pkl holds a list, not a state dict"},
      {"value not a tensor", with_pickle(p2().raw("}").str("k").raw("Ns.")), kNS,
       "state dict value 'k' is a None, not a tensor"},
      {"key not a string", with_pickle(p2().raw("}K\x01Ns.")), kNS, "state dict key is a int"},
      {"malformed persistent id", with_pickle(p2().raw("}").str("k").raw("NQs.")), kC,
       "persistent id is not a ('storage', type, key, location, numel) tuple"},
      {"persistent id with forbidden storage type",
       with_pickle(p2().str("storage").global("torch", "ComplexFloatStorage")), kNS,
       "forbidden global 'torch.ComplexFloatStorage'"},
  };
  // A tensor with a negative stride (BININT -1), built by hand.
  PickleWriter neg = p2();
  neg.op('}').str("t").global("torch._utils", "_rebuild_tensor_v2").op('(');
  neg.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(6).op('t');
  neg.op('Q').integer(0).op('(').integer(6).op('t').op('(').integer(-1).op('t');
  neg.op('\x89').op('}').op('t').op('R').op('s').op('.');
  cases.push_back({"negative stride", testing::torch_zip(neg.bytes(), {kT}), kC,
                   "_rebuild_tensor_v2 stride is negative (-1)"});
  return cases;
}

std::vector<BadCase> checkpoint_cases() {
  TorchTensorSpec big = kT;
  big.numel = 5;  // [2, 3] needs 6 elements
  TorchTensorSpec off = kT;
  off.offset = 1;
  TorchTensorSpec bad_key = kT;
  bad_key.key = "../0";
  TorchTensorSpec expand = kT;  // stride 0 over one element: a 64 MiB copy from a tiny file
  expand.numel = 1;
  expand.size = {1 << 24};
  expand.stride = {0};
  TorchTensorSpec half = kT;
  half.storage_type = "HalfStorage";
  half.name = "h";
  const std::string pkl = testing::state_dict_pickle({kT});
  std::string crc = with_tensors({kT});
  crc[crc.find("archive/data/0") + 14] ^= 1;  // first storage byte, CRC left as it was
  ZipWriter outside;
  outside.add("archive/data.pkl", pkl);
  outside.add("other/version", "3\n");
  ZipWriter two;
  two.add("a/data.pkl", pkl);
  two.add("b/data.pkl", pkl);
  return {
      {"legacy format",
       std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15), kNS,
       "legacy (pre-1.6, non-ZIP) torch.save format is not supported"},
      {"storage too small", with_tensors({big}), kC,
       "tensor 't': shape [2, 3] stride [3, 1] offset 0 reaches past storage '0' of 5 elements"},
      {"offset pushes past storage", with_tensors({off}), kC, "offset 1 reaches past storage"},
      {"storage entry size mismatch", testing::torch_zip(pkl, {big}), kC,
       "storage '0' holds 6 F32 elements but its entry has 20 bytes"},
      {"storage entry missing", testing::torch_zip(pkl, {}), kC,
       "tensor 't': no entry 'archive/data/0' for its storage"},
      {"storage key with a path", with_tensors({bad_key}), kC,
       "storage key '../0' is not alphanumeric"},
      {"same key, two dtypes", testing::torch_zip(testing::state_dict_pickle({kT, half}), {kT}), kC,
       "storage '0' is named twice with different types or sizes"},
      {"duplicate tensor names", with_tensors({kT, kT}), kC, "duplicate tensor name 't'"},
      {"expanded tensor over the copy budget", with_tensors({expand}), kNS,
       "non-contiguous tensor of 67108864 bytes exceeds the copy budget"},
      {"byteorder big", testing::torch_zip(pkl, {kT}, "big"), kNS, "byteorder 'big'"},
      {"byteorder garbage", testing::torch_zip(pkl, {kT}, "mid\ndle"), kC,
       "byteorder record is 'mid\\x0adle', not 'little'"},
      {"version missing", testing::torch_zip(pkl, {kT}, "little", ""), kC,
       "no 'archive/version' record"},
      {"version too new", testing::torch_zip(pkl, {kT}, "little", "99\n"), kNS,
       "archive format version 99"},
      {"version not a number", testing::torch_zip(pkl, {kT}, "little", "x"), kC,
       "version record 'x' is not a small decimal number"},
      {"CRC mismatch", crc, kC, "entry 'archive/data/0': CRC-32"},
      {"no data.pkl",
       [] {
         ZipWriter z;
         z.add("archive/version", "3");
         return z.finish();
       }(),
       kC, "no '<prefix>/data.pkl' entry"},
      {"entry outside the prefix", outside.finish(), kC,
       "entry 'other/version' is outside the archive folder 'archive'"},
      {"two pickles", two.finish(), kC, "two pickles"},
      {"truncated pickle", testing::torch_zip(pkl.substr(0, pkl.size() / 2), {kT}), kC,
       "data.pkl: pickle byte"},
  };
}

std::vector<BadCase> zip_cases() {
  ZipWriter deflated;
  deflated.add("archive/data.pkl", "x", /*method=*/8);
  ZipWriter dup;
  dup.add("archive/data.pkl", "N.");
  dup.add("archive/data.pkl", "N.");
  // Entry "b"'s local header sits inside entry "a"'s data.
  ZipWriter overlap;
  ZipWriter inner;
  inner.add("archive/b", "xy");
  const std::string inner_bytes = inner.finish(false).substr(0, 30 + 9 + 2);
  overlap.add("archive/a", inner_bytes);
  overlap.add_central_only("archive/b", overlap.last_data_offset(), 2, 0);
  std::string past_eof = with_tensors({kT});
  // cd_offset field of the plain EOCD, and of the ZIP64 record (56 + 20 + 22 from the end).
  std::string cd_past = ZipWriter().finish(false);
  cd_past.replace(16, 4, testing::le_bytes(1'000'000, 4));
  std::string z64_past = with_tensors({kT});
  z64_past.replace(z64_past.size() - 22 - 20 - 56 + 48, 8, testing::le_bytes(1'000'000, 8));
  std::string many = ZipWriter().finish(false);
  many.replace(8, 4, testing::le_bytes(0xffff, 2) + testing::le_bytes(0xffff, 2));
  std::string name_mismatch = with_tensors({kT});
  name_mismatch[30 + 8] =
      'X';  // the first local header's name: archive/data.pkl -> archive/Xata...
  const std::string real_head = with_tensors({kT});
  return {
      {"compressed entry", deflated.finish(), kNS,
       "entry 'archive/data.pkl' uses compression method 8; only stored (method 0)"},
      {"EOCD missing", real_head.substr(0, real_head.size() - 22), kC,
       "no ZIP end-of-central-directory record"},
      {"tiny file", "PK", kC, "2 bytes, too short for a ZIP end-of-central-directory record"},
      {"empty file", "", kC, "0 bytes, too short"},
      {"central directory past EOF", cd_past, kC, "central directory [1000000, +0) runs past"},
      {"ZIP64 central directory past EOF", z64_past, kC, "central directory [1000000"},
      {"entry count larger than the directory", many, kC, "65535 entries cannot fit"},
      {"overlapping entries", overlap.finish(), kC, "entries 'archive/a' and 'archive/b' overlap"},
      {"duplicate entry names", dup.finish(), kC, "duplicate entry name 'archive/data.pkl'"},
      {"local header disagrees", name_mismatch, kC, "local header at offset 0 disagrees"},
  };
}

void expect_all_fail(const std::vector<BadCase>& cases) {
  TempDir dir;
  int index = 0;
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.label);
    const auto path = dir / ("case" + std::to_string(index++) + ".bin");
    std::ofstream(path, std::ios::binary) << c.bytes;
    auto f = TorchCheckpoint::open(path);
    ASSERT_FALSE(f.has_value());
    const std::string& message = f.error().message();
    EXPECT_EQ(f.error().code(), c.code) << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
    EXPECT_NE(message.find("pytorch file '" + path.string() + "': "), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(TorchMalicious, PickleCases) { expect_all_fail(pickle_cases()); }
TEST(TorchMalicious, CheckpointCases) { expect_all_fail(checkpoint_cases()); }
TEST(TorchMalicious, ZipCases) { expect_all_fail(zip_cases()); }

TEST(TorchMalicious, TruncatedRealFileFailsCleanly) {
  const std::string bytes =
      testing::read_text_file(testing::shared_path("adapters/gpt2-great-bin-r8/adapter_model.bin"));
  std::vector<BadCase> cases;
  for (std::size_t size :
       {bytes.size() - 1, bytes.size() - 30, bytes.size() / 2, std::size_t{100}}) {
    cases.push_back({"cut at " + std::to_string(size), bytes.substr(0, size), kC, "ZIP"});
  }
  expect_all_fail(cases);
}

}  // namespace
}  // namespace lorank
