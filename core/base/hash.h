// FNV-1a, 64 bits: the checksum of .h158 files and of checkpoints. Chaining the previous value
// hashes a sequence of pieces as one concatenated run of bytes.
#pragma once

#include <cstdint>
#include <span>

namespace h158 {

inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

inline uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h = kFnv1aOffset) {
    for (uint8_t b : bytes) {
        h ^= b;
        h *= 0x100000001b3ULL;
    }
    return h;
}

}  // namespace h158
