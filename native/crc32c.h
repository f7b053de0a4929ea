// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka record batches use.
#ifndef GODEL_NATIVE_CRC32C_H_
#define GODEL_NATIVE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace godel {

// CRC32C of data[0, length), continuing from `initial`, a finished CRC (0 for a fresh one):
// Crc32c(Crc32c(0, a), b) == Crc32c(0, a ++ b). Thread-safe; picks the fastest path this CPU has.
uint32_t Crc32c(uint32_t initial, const uint8_t* data, size_t length);

// Which path Crc32c uses on this CPU: "sse4.2+pclmul", "sse4.2", "armv8-crc" or "slicing-by-8".
const char* Crc32cImplementation();

// The individual paths, exposed for native tests and benchmarks only. Each one works on the raw
// CRC register (no pre/post inversion). The hardware ones may only be called when the CPU has the
// feature (see Crc32cImplementation).
namespace crc32c_internal {
uint32_t ExtendPortable(uint32_t reg, const uint8_t* data, size_t length);
#if defined(__x86_64__) || defined(_M_X64)
uint32_t ExtendSse42(uint32_t reg, const uint8_t* data, size_t length);
uint32_t ExtendSse42Clmul(uint32_t reg, const uint8_t* data, size_t length);
#endif
#if defined(__aarch64__)
uint32_t ExtendArmv8(uint32_t reg, const uint8_t* data, size_t length);
#endif
}  // namespace crc32c_internal

}  // namespace godel

#endif  // GODEL_NATIVE_CRC32C_H_
