// The built-in training text for the GPT: a small procedurally generated language, made at
// start-up from a fixed seed (no copied text, no download), about 1 MB in a few milliseconds.
//
// One statement per line, drawn from five kinds with fixed proportions:
//   sentences (40%)  a tiny English-like grammar with number agreement:
//                    "The small fox follows two red ships near the river."
//                    "Many children sleep quietly." (subject, verb, optional object/place/manner)
//   arithmetic (25%) correct sums, differences and products of small numbers: "17 + 25 = 42."
//                    "63 - 18 = 45." "7 * 8 = 56."
//   counting (12%)   runs of numbers or number words: "count from 4 to 9: 4 5 6 7 8 9."
//                    "three, four, five, six."
//   calendar (11%)   "after monday comes tuesday." "march has 31 days." "march comes before april."
//   facts (12%)      question/answer pairs over a fixed little world in which every creature has
//                    one food, one home and one colour: "q: where does the fox live? a: the fox
//                    lives in the forest." (the same answer every time, so it can be learned)
// A tiny model first learns the spelling of the ~150 words, spaces, capitals and full stops
// (within ~100 steps), then the grammar and number formats; its samples show that progression.
#pragma once

#include <cstdint>
#include <string>

namespace h158 {

inline constexpr int64_t kDefaultCorpusBytes = int64_t(1) << 20;
inline constexpr uint64_t kCorpusSeed = 0x158158;

// At least `bytes` bytes (whole lines, each ending in '\n'); the same output for the same seed.
std::string generateCorpus(int64_t bytes = kDefaultCorpusBytes, uint64_t seed = kCorpusSeed);

}  // namespace h158
