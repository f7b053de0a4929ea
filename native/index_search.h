// Binary search over Kafka's sparse segment indexes (.index and .timeindex files).
#ifndef GODEL_NATIVE_INDEX_SEARCH_H_
#define GODEL_NATIVE_INDEX_SEARCH_H_

#include <cstddef>
#include <cstdint>

namespace godel {

constexpr size_t kOffsetIndexEntryBytes = 8;  // u32 relative offset, u32 position (big-endian)
constexpr size_t kTimeIndexEntryBytes = 12;   // i64 timestamp, u32 relative offset (big-endian)

// Slot of the last entry whose relative offset is <= target, or -1 when there is none. `index`
// holds `entries` entries ascending by relative offset; among equal keys the last slot wins.
int64_t SearchOffsetIndex(const uint8_t* index, size_t entries, uint32_t target);

// Slot of the last entry whose timestamp is <= target, or -1 when there is none. `index` holds
// `entries` entries ascending by timestamp; among equal keys the last slot wins.
int64_t SearchTimeIndex(const uint8_t* index, size_t entries, int64_t target);

}  // namespace godel

#endif  // GODEL_NATIVE_INDEX_SEARCH_H_
