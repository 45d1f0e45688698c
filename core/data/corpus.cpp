// The generated corpus of corpus.h: word lists, the five line generators and their mixture.
#include "core/data/corpus.h"

#include <array>
#include <string_view>

#include "core/base/rng.h"

namespace h158 {
namespace {

struct Noun {
    std::string_view sg, pl;
};
struct Verb {
    std::string_view sg, pl;  // third person singular, plural
    bool transitive;
};

constexpr std::array<Noun, 12> kNouns{{{"cat", "cats"},
                                       {"dog", "dogs"},
                                       {"bird", "birds"},
                                       {"fox", "foxes"},
                                       {"child", "children"},
                                       {"robot", "robots"},
                                       {"farmer", "farmers"},
                                       {"ship", "ships"},
                                       {"king", "kings"},
                                       {"mouse", "mice"},
                                       {"horse", "horses"},
                                       {"teacher", "teachers"}}};
constexpr std::array<Verb, 12> kVerbs{{{"sleeps", "sleep", false},
                                       {"runs", "run", false},
                                       {"sings", "sing", false},
                                       {"waits", "wait", false},
                                       {"dances", "dance", false},
                                       {"sees", "see", true},
                                       {"likes", "like", true},
                                       {"follows", "follow", true},
                                       {"finds", "find", true},
                                       {"carries", "carry", true},
                                       {"watches", "watch", true},
                                       {"helps", "help", true}}};
constexpr std::array<std::string_view, 10> kAdjectives{
    "small", "big", "red", "green", "old", "young", "quiet", "happy", "cold", "bright"};
constexpr std::array<std::string_view, 8> kPlaces{
    "near the river", "under a tree",  "in the old house", "on the hill",
    "by the sea",     "in the garden", "at the market",    "behind the wall"};
constexpr std::array<std::string_view, 6> kManners{"slowly",   "quickly", "today",
                                                   "at night", "again",   "quietly"};
constexpr std::array<std::string_view, 20> kNumberWords{
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 7> kDays{"monday", "tuesday",  "wednesday", "thursday",
                                                "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 12> kMonths{"january",   "february", "march",    "april",
                                                   "may",       "june",     "july",     "august",
                                                   "september", "october",  "november", "december"};
constexpr std::array<int, 12> kMonthDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
constexpr std::array<std::string_view, 8> kFoods{"apples", "fish",  "bread", "seeds",
                                                 "cheese", "grass", "honey", "rice"};
constexpr std::array<std::string_view, 8> kHomes{"the forest", "the barn",  "the castle",
                                                 "the tower",  "the field", "the harbour",
                                                 "the school", "the cave"};

class Writer {
  public:
    explicit Writer(uint64_t seed) : m_rng(seed, 0x636f72707573ULL) {}
    int pick(int n) { return int(m_rng.below(uint64_t(n))); }
    template <typename A>
    std::string_view any(const A& a) {
        return a[size_t(pick(int(a.size())))];
    }
    bool chance(double p) { return m_rng.uniform() < p; }

  private:
    Rng m_rng;
};

// "the small fox" / "two red ships"; returns whether the phrase is plural.
bool nounPhrase(Writer& w, std::string& s, bool allowPlural = true) {
    const bool plural = allowPlural && w.chance(0.4);
    if (plural) {
        static constexpr std::array<std::string_view, 5> det{"the", "two", "some", "many", "three"};
        s += w.any(det);
    } else {
        static constexpr std::array<std::string_view, 4> det{"the", "a", "one", "every"};
        s += w.any(det);
    }
    if (w.chance(0.5)) (s += ' ') += w.any(kAdjectives);
    const Noun& n = kNouns[size_t(w.pick(int(kNouns.size())))];
    (s += ' ') += plural ? n.pl : n.sg;
    return plural;
}

void sentence(Writer& w, std::string& s) {
    const size_t begin = s.size();
    const bool plural = nounPhrase(w, s);
    const Verb& v = kVerbs[size_t(w.pick(int(kVerbs.size())))];
    (s += ' ') += plural ? v.pl : v.sg;
    if (v.transitive) {
        s += ' ';
        nounPhrase(w, s);
    }
    if (w.chance(0.35)) (s += ' ') += w.any(kPlaces);
    if (w.chance(0.25)) (s += ' ') += w.any(kManners);
    if (w.chance(0.15)) {  // a second clause
        s += " and ";
        const bool p2 = nounPhrase(w, s);
        const Verb& v2 = kVerbs[size_t(w.pick(5))];  // intransitive ones
        (s += ' ') += p2 ? v2.pl : v2.sg;
    }
    s[begin] = char(s[begin] - 'a' + 'A');
    s += ".\n";
}

void arithmetic(Writer& w, std::string& s) {
    const int op = w.pick(3);
    int a, b, c;
    char sign;
    if (op == 0) {
        a = w.pick(100), b = w.pick(100), c = a + b, sign = '+';
    } else if (op == 1) {
        a = w.pick(100), b = w.pick(a + 1), c = a - b, sign = '-';
    } else {
        a = w.pick(13), b = w.pick(13), c = a * b, sign = '*';
    }
    s += std::to_string(a) + ' ' + sign + ' ' + std::to_string(b) + " = " + std::to_string(c) +
         ".\n";
}

void counting(Writer& w, std::string& s) {
    if (w.chance(0.5)) {
        const int from = w.pick(90), len = 3 + w.pick(6);
        s += "count from " + std::to_string(from) + " to " + std::to_string(from + len - 1) + ":";
        for (int i = 0; i < len; ++i) (s += ' ') += std::to_string(from + i);
    } else {
        const int len = 3 + w.pick(4), from = w.pick(int(kNumberWords.size()) - len + 1);
        for (int i = 0; i < len; ++i) {
            if (i) s += ", ";
            s += kNumberWords[size_t(from + i)];
        }
    }
    s += ".\n";
}

void calendar(Writer& w, std::string& s) {
    const int kind = w.pick(3);
    if (kind == 0) {
        const int d = w.pick(7);
        (((s += "after ") += kDays[size_t(d)]) += " comes ") += kDays[size_t((d + 1) % 7)];
    } else if (kind == 1) {
        const int m = w.pick(12);
        ((s += kMonths[size_t(m)]) += " has ") += std::to_string(kMonthDays[size_t(m)]) + " days";
    } else {
        const int m = w.pick(11);
        ((s += kMonths[size_t(m)]) += " comes before ") += kMonths[size_t(m + 1)];
    }
    s += ".\n";
}

// The little world: creature i eats kFoods[(3i + 1) % 8], lives in kHomes[(5i + 2) % 8] and is
// red, green or bright (i % 3), always the same.
void fact(Writer& w, std::string& s) {
    const int i = w.pick(int(kNouns.size()));
    const std::string_view n = kNouns[size_t(i)].sg;
    static constexpr std::array<std::string_view, 3> colours{"red", "green", "bright"};
    switch (w.pick(3)) {
        case 0:
            ((((s += "q: what does the ") += n) += " eat? a: the ") += n) += " eats ";
            s += kFoods[size_t((3 * i + 1) % 8)];
            break;
        case 1:
            ((((s += "q: where does the ") += n) += " live? a: the ") += n) += " lives in ";
            s += kHomes[size_t((5 * i + 2) % 8)];
            break;
        default:
            ((((s += "q: what colour is the ") += n) += "? a: the ") += n) += " is ";
            s += colours[size_t(i % 3)];
            break;
    }
    s += ".\n";
}

}  // namespace

std::string generateCorpus(int64_t bytes, uint64_t seed) {
    Writer w(seed);
    std::string s;
    s.reserve(size_t(bytes) + 256);
    while (int64_t(s.size()) < bytes) {
        const int r = w.pick(100);
        if (r < 40)
            sentence(w, s);
        else if (r < 65)
            arithmetic(w, s);
        else if (r < 77)
            counting(w, s);
        else if (r < 88)
            calendar(w, s);
        else
            fact(w, s);
    }
    return s;
}

}  // namespace h158
