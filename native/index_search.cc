// Binary search over Kafka's sparse segment indexes, read in place from a JS buffer.
//
// Memory layout (big-endian, exactly the bytes of the .index / .timeindex file):
//   offset index  entry i at byte 8*i:   [u32 relative offset][u32 file position]
//   time index    entry i at byte 12*i:  [i64 timestamp ms   ][u32 relative offset]
// Only the first `entries` entries are searched (the tail of a preallocated index is zeros).
// Entries ascend by key (Kafka appends only larger keys); among equal keys the last slot wins.
//
// JS calls (synchronous, pure CPU; arguments already checked by validate.ts):
//   searchOffsetIndex(index: Uint8Array, entries: number, target: number) -> number
//     entries  integer, entries * 8 <= index.length
//     target   any integer Number: below 0 matches nothing (-1); above 0xffffffff is larger than
//              every u32 key (the last slot).
//   searchTimeIndex(index: Uint8Array, entries: number, target: bigint) -> number
//     entries  integer, entries * 12 <= index.length
//     target   any BigInt: below -2^63 matches nothing (-1); above 2^63-1 is larger than every key.
//   Both return the slot of the greatest entry whose key is <= target, or -1.
#include "index_search.h"

#include "common.h"

namespace godel {
namespace {

inline uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline int64_t LoadBe64Signed(const uint8_t* p) {
  const uint64_t v = (uint64_t{LoadBe32(p)} << 32) | LoadBe32(p + 4);
  return static_cast<int64_t>(v);  // two's complement (guaranteed since C++20, universal before)
}

// Upper bound minus one: the last slot whose key is <= target. `KeyAt(slot)` reads slot's key.
template <typename Key, typename KeyAt>
int64_t LastAtOrBelow(size_t entries, Key target, KeyAt key_at) {
  size_t lo = 0;
  size_t hi = entries;  // invariant: keys in [0, lo) are <= target, keys in [hi, entries) are >
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (key_at(mid) <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  GODEL_ASSERT(lo <= entries, "binary search left its range");
  return static_cast<int64_t>(lo) - 1;
}

}  // namespace

int64_t SearchOffsetIndex(const uint8_t* index, size_t entries, uint32_t target) {
  return LastAtOrBelow(entries, target,
                       [index](size_t slot) { return LoadBe32(index + slot * kOffsetIndexEntryBytes); });
}

int64_t SearchTimeIndex(const uint8_t* index, size_t entries, int64_t target) {
  return LastAtOrBelow(entries, target, [index](size_t slot) {
    return LoadBe64Signed(index + slot * kTimeIndexEntryBytes);
  });
}

// ---- JS binding --------------------------------------------------------------------------------

namespace {

struct IndexArg {
  const uint8_t* data;
  size_t entries;
};

IndexArg ReadIndexArgs(const Napi::CallbackInfo& info, size_t entry_bytes, const char* what) {
  GODEL_ASSERT(info.Length() == 3, what);
  GODEL_ASSERT(info[0].IsTypedArray() && info[1].IsNumber(), what);
  Napi::Uint8Array index = info[0].As<Napi::Uint8Array>();
  GODEL_ASSERT(index.TypedArrayType() == napi_uint8_array, what);
  const int64_t entries = info[1].As<Napi::Number>().Int64Value();
  GODEL_ASSERT(entries >= 0, what);
  GODEL_ASSERT(static_cast<uint64_t>(entries) <= index.ByteLength() / entry_bytes,
               "index search: entries do not fit the index buffer");
  return {index.Data(), static_cast<size_t>(entries)};
}

Napi::Value SearchOffsetIndexJs(const Napi::CallbackInfo& info) {
  const char* what = "searchOffsetIndex takes (index: Uint8Array, entries: number, target: number)";
  const IndexArg index = ReadIndexArgs(info, kOffsetIndexEntryBytes, what);
  GODEL_ASSERT(info[2].IsNumber(), what);
  const double target = info[2].As<Napi::Number>().DoubleValue();
  GODEL_ASSERT(target == target, "searchOffsetIndex: target is NaN");
  int64_t slot;
  if (target < 0) {
    slot = -1;  // below every u32 key
  } else if (target > 4294967295.0) {
    slot = static_cast<int64_t>(index.entries) - 1;  // above every u32 key
  } else {
    slot = SearchOffsetIndex(index.data, index.entries, static_cast<uint32_t>(target));
  }
  return Napi::Number::New(info.Env(), static_cast<double>(slot));
}

Napi::Value SearchTimeIndexJs(const Napi::CallbackInfo& info) {
  const char* what = "searchTimeIndex takes (index: Uint8Array, entries: number, target: bigint)";
  const IndexArg index = ReadIndexArgs(info, kTimeIndexEntryBytes, what);
  GODEL_ASSERT(info[2].IsBigInt(), what);
  Napi::BigInt big = info[2].As<Napi::BigInt>();
  bool lossless = false;
  const int64_t target = big.Int64Value(&lossless);
  int64_t slot;
  if (lossless) {
    slot = SearchTimeIndex(index.data, index.entries, target);
  } else {
    // Outside int64: only the sign matters. ToWords reports it with a one-word buffer.
    int sign_bit = 0;
    size_t word_count = 1;
    uint64_t word = 0;
    big.ToWords(&sign_bit, &word_count, &word);
    slot = sign_bit != 0 ? -1 : static_cast<int64_t>(index.entries) - 1;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(slot));
}

}  // namespace

void InitIndexSearch(Napi::Env env, Napi::Object exports) {
  exports.Set("searchOffsetIndex", Napi::Function::New(env, SearchOffsetIndexJs, "searchOffsetIndex"));
  exports.Set("searchTimeIndex", Napi::Function::New(env, SearchTimeIndexJs, "searchTimeIndex"));
}

}  // namespace godel
