// CRC32C (Castagnoli) for Kafka record batches.
//
// JS call (synchronous; arguments already checked by checkRange/checkCrcInitial in validate.ts):
//   crc32c(data: Uint8Array, start: number, end: number, initial: number) -> number
//     data     any Uint8Array/Buffer; only bytes [start, end) are read, in place, no copy.
//     start    0 <= start <= end          (integers; end may reach 2^32 on Node 20)
//     end      end <= data.length
//     initial  a finished CRC, 0..0xffffffff; 0 starts a fresh CRC. Chaining:
//              crc32c(b, 0, b.length, crc32c(a, 0, a.length, 0)) === crc32c(a ++ b, ...).
//   Returns the finished CRC as an unsigned 32-bit number.
//
// Register convention: a finished CRC c corresponds to the raw register ~c; every Extend* function
// below works on the raw register (no inversion) and Crc32c() inverts on the way in and out.
//
// Paths, fastest first, chosen once per process from the CPU's features:
//   sse4.2+pclmul  x86-64: three interleaved _mm_crc32_u64 streams over three adjacent blocks,
//                  joined with one carry-less multiply per stream (see ShiftClmul), so the CRC
//                  unit's 3-cycle latency is hidden; only the last < 24 bytes run on one stream.
//   sse4.2         x86-64 without PCLMULQDQ: one _mm_crc32_u64 stream.
//   armv8-crc      AArch64 with the CRC extension: one __crc32cd stream.
//   slicing-by-8   everything else: 8 table lookups per 8 bytes.
// The hardware functions carry function-level target attributes, so the file is compiled for the
// baseline ISA and the binary still runs (on the table path) on CPUs without the features.
#include "crc32c.h"

#include <array>
#include <cstring>

#include "common.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GODEL_CRC_X86 1
#endif

#if defined(__aarch64__)
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif
#if defined(__clang__)
#define GODEL_TARGET_ARM_CRC __attribute__((target("crc")))
#else
#define GODEL_TARGET_ARM_CRC __attribute__((target("+crc")))
#endif
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crc32c.cc assumes a little-endian CPU (the 8-byte loads feed the CRC in memory order)"
#endif

namespace godel {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

// ---- Polynomial arithmetic mod P, reflected (bit 31 is the coefficient of x^0) ----------------

// a(x) * b(x) mod P.
constexpr uint32_t MulModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 32; i++) {
    if (a & 0x80000000u) product ^= b;
    a <<= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

// x^n mod P.
constexpr uint32_t XPowModP(uint64_t n) {
  uint32_t result = 0x80000000u;  // x^0
  uint32_t square = 0x40000000u;  // x^1
  while (n != 0) {
    if (n & 1) result = MulModP(result, square);
    square = MulModP(square, square);
    n >>= 1;
  }
  return result;
}

static_assert(MulModP(0x80000000u, 0x12345678u) == 0x12345678u, "x^0 is the identity");
static_assert(XPowModP(32) == kPoly, "x^32 mod P is P's low terms");

// ---- Slicing-by-8 tables, built at compile time ------------------------------------------------

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    for (int k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned load; one mov on x86-64 and AArch64
  return v;
}

// ---- Stream sizes and join constants for the interleaved path ----------------------------------

// Bytes per stream in one interleaved step. A step covers 3 * kBlock bytes; the long step keeps the
// join cost (two multiplies) negligible on big buffers, the short one serves buffers >= 768 B, and
// one last step of variable size takes what is left down to < 24 bytes.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;

// Shifting the register r by n zero bytes is r * x^(8n) mod P. A 32x32 carry-less multiply of two
// reflected values yields their product times x (one spare bit), and _mm_crc32_u64(0, v) yields
// v * x^32 mod P, so multiplying by the constant x^(8n - 33) and reducing with one CRC instruction
// gives exactly r * x^(8n) mod P.
constexpr uint32_t ClmulShiftConstant(size_t bytes) { return XPowModP(8 * uint64_t{bytes} - 33); }

constexpr uint32_t kLongShift1 = ClmulShiftConstant(kLongBlock);
constexpr uint32_t kLongShift2 = ClmulShiftConstant(2 * kLongBlock);
constexpr uint32_t kShortShift1 = ClmulShiftConstant(kShortBlock);
constexpr uint32_t kShortShift2 = ClmulShiftConstant(2 * kShortBlock);

// For the last step, whatever is left (24 B up to 3 * kShortBlock): blocks of 8 * i bytes, whose
// constants are kTailShifts[i] = {shift by 8i bytes, shift by 16i bytes}, i in [1, kShortBlock/8].
struct ShiftPair {
  uint32_t by1;
  uint32_t by2;
};
using TailShifts = std::array<ShiftPair, kShortBlock / 8 + 1>;

constexpr TailShifts MakeTailShifts() {
  TailShifts t{};
  for (size_t i = 1; i < t.size(); i++) t[i] = {ClmulShiftConstant(8 * i), ClmulShiftConstant(16 * i)};
  return t;
}

constexpr TailShifts kTailShifts = MakeTailShifts();

}  // namespace

namespace crc32c_internal {

uint32_t ExtendPortable(uint32_t reg, const uint8_t* p, size_t n) {
  // Bytes one at a time up to 8-byte alignment, then 8 bytes per round, then the tail.
  while (n != 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    reg = (reg >> 8) ^ kTables[0][(reg ^ *p++) & 0xff];
    n--;
  }
  while (n >= 8) {
    uint64_t v = Load64(p) ^ reg;
    reg = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
          kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^
          kTables[2][(v >> 40) & 0xff] ^ kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n != 0) {
    reg = (reg >> 8) ^ kTables[0][(reg ^ *p++) & 0xff];
    n--;
  }
  return reg;
}

#if defined(GODEL_CRC_X86)

__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t reg, const uint8_t* p, size_t n) {
  uint64_t r = reg;
  while (n >= 8) {
    r = _mm_crc32_u64(r, Load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t r32 = static_cast<uint32_t>(r);
  while (n != 0) {
    r32 = _mm_crc32_u8(r32, *p++);
    n--;
  }
  return r32;
}

namespace {

// r * x^(8n) mod P for the n whose constant is k (see ClmulShiftConstant).
__attribute__((target("sse4.2,pclmul"))) inline uint32_t ShiftClmul(uint32_t r, uint32_t k) {
  __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(r)),
                                         _mm_cvtsi32_si128(static_cast<int>(k)), 0x00);
  return static_cast<uint32_t>(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(product))));
}

// One interleaved step: three streams over the adjacent blocks [0, B), [B, 2B), [2B, 3B) of p,
// the first continuing from reg, the others from 0, joined as
//   reg' = shift(a, 2B) ^ shift(b, B) ^ c.
// shift1/shift2 are the constants for shifting by B and 2B bytes.
__attribute__((target("sse4.2,pclmul"))) inline uint32_t Step3(uint32_t reg, const uint8_t* p,
                                                              size_t block, uint32_t shift1,
                                                              uint32_t shift2) {
  GODEL_ASSERT(block % 8 == 0 && block >= 8, "streams advance 8 bytes at a time");
  uint64_t a = reg;
  uint64_t b = 0;
  uint64_t c = 0;
  const uint8_t* pb = p + block;
  const uint8_t* pc = p + 2 * block;
#pragma GCC unroll 4
  for (size_t i = 0; i < block; i += 8) {
    a = _mm_crc32_u64(a, Load64(p + i));
    b = _mm_crc32_u64(b, Load64(pb + i));
    c = _mm_crc32_u64(c, Load64(pc + i));
  }
  return ShiftClmul(static_cast<uint32_t>(a), shift2) ^
         ShiftClmul(static_cast<uint32_t>(b), shift1) ^ static_cast<uint32_t>(c);
}

}  // namespace

__attribute__((target("sse4.2,pclmul"))) uint32_t ExtendSse42Clmul(uint32_t reg, const uint8_t* p,
                                                                   size_t n) {
  while (n >= 3 * kLongBlock) {
    reg = Step3(reg, p, kLongBlock, kLongShift1, kLongShift2);
    p += 3 * kLongBlock;
    n -= 3 * kLongBlock;
  }
  while (n >= 3 * kShortBlock) {
    reg = Step3(reg, p, kShortBlock, kShortShift1, kShortShift2);
    p += 3 * kShortBlock;
    n -= 3 * kShortBlock;
  }
  if (n >= 24) {  // the rest but < 24 bytes, on three streams of 8 * i bytes each
    const size_t i = n / 24;
    GODEL_ASSERT(i >= 1 && i < kTailShifts.size(), "tail step out of range");
    reg = Step3(reg, p, 8 * i, kTailShifts[i].by1, kTailShifts[i].by2);
    p += 24 * i;
    n -= 24 * i;
  }
  return ExtendSse42(reg, p, n);
}

#endif  // GODEL_CRC_X86

#if defined(__aarch64__)

GODEL_TARGET_ARM_CRC uint32_t ExtendArmv8(uint32_t reg, const uint8_t* p, size_t n) {
  while (n >= 8) {
    reg = __crc32cd(reg, Load64(p));
    p += 8;
    n -= 8;
  }
  while (n != 0) {
    reg = __crc32cb(reg, *p++);
    n--;
  }
  return reg;
}

#endif  // __aarch64__

}  // namespace crc32c_internal

namespace {

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

struct Implementation {
  ExtendFn extend;
  const char* name;
};

Implementation Choose() {
#if defined(GODEL_CRC_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) {
    if (__builtin_cpu_supports("pclmul")) return {crc32c_internal::ExtendSse42Clmul, "sse4.2+pclmul"};
    return {crc32c_internal::ExtendSse42, "sse4.2"};
  }
#endif
#if defined(__aarch64__)
#if defined(__ARM_FEATURE_CRC32) || defined(__APPLE__)
  return {crc32c_internal::ExtendArmv8, "armv8-crc"};
#elif defined(__linux__)
  if (getauxval(AT_HWCAP) & HWCAP_CRC32) return {crc32c_internal::ExtendArmv8, "armv8-crc"};
#endif
#endif
  return {crc32c_internal::ExtendPortable, "slicing-by-8"};
}

// CPU features are a fact about the process, not about a napi_env, so this is the one mutable-
// looking global: initialised once (thread-safe function-local static), never changed.
const Implementation& Chosen() {
  static const Implementation chosen = Choose();
  return chosen;
}

}  // namespace

uint32_t Crc32c(uint32_t initial, const uint8_t* data, size_t length) {
  return ~Chosen().extend(~initial, data, length);
}

const char* Crc32cImplementation() { return Chosen().name; }

// ---- JS binding --------------------------------------------------------------------------------

namespace {

// The hot synchronous call, written against the C N-API directly: one napi_get_cb_info, one
// napi_get_typedarray_info, three number reads and one number out.
napi_value Crc32cJs(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  GODEL_ASSERT(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc == 4,
               "crc32c takes (data, start, end, initial)");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  GODEL_ASSERT(napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr) == napi_ok &&
                   type == napi_uint8_array,
               "crc32c: data must be a Uint8Array");
  int64_t start = 0;
  int64_t end = 0;
  double initial = 0;
  GODEL_ASSERT(napi_get_value_int64(env, argv[1], &start) == napi_ok &&
                   napi_get_value_int64(env, argv[2], &end) == napi_ok &&
                   napi_get_value_double(env, argv[3], &initial) == napi_ok,
               "crc32c: start, end and initial must be numbers");
  GODEL_ASSERT(start >= 0 && start <= end && static_cast<uint64_t>(end) <= length,
               "crc32c: range outside the buffer");
  GODEL_ASSERT(initial >= 0 && initial <= 4294967295.0, "crc32c: initial is not a uint32");
  const uint8_t* base = static_cast<const uint8_t*>(data);
  const uint32_t crc = Crc32c(static_cast<uint32_t>(initial), base + start, static_cast<size_t>(end - start));
  napi_value result;
  GODEL_ASSERT(napi_create_uint32(env, crc, &result) == napi_ok, "crc32c: cannot create the result");
  return result;
}

}  // namespace

void InitCrc32c(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  GODEL_ASSERT(napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32cJs, nullptr, &fn) == napi_ok,
               "cannot create crc32c");
  exports.Set("crc32c", Napi::Value(env, fn));
  exports.Set("crc32cImplementation", Napi::String::New(env, Crc32cImplementation()));
}

}  // namespace godel
