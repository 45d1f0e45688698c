// Fuzz target of the lesson reader (core/train/lesson.h): a lesson file's text through
// loadLessonFile. It must return a lesson or throw an h158::Error naming the file (ConfigError
// for a file that is JSON but not a lesson, naming the page and field too); every page of a
// lesson it returns has a title and text, a resolved configuration that validates where it has
// one, and conditions that print back to what they parse from.
#include "core/train/lesson.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = (scratchDir() / "lesson.json").string();
    writeBytes(path, data, size);
    Lesson lesson;
    if (!returnsOrRefuses("loadLessonFile", path, [&] { lesson = loadLessonFile(path); })) return 0;
    require(!lesson.pages.empty(), "a lesson was read without pages");
    for (const LessonPage& p : lesson.pages) {
        if (p.hasConfig) mustNotThrow("validate(page config)", [&] { validate(p.config); });
        for (const LessonAction& a : p.actions)
            if (a.kind == LessonAction::Kind::RunUntil) {
                const LessonCondition back = parseCondition(a.until.text());
                require(back.metric == a.until.metric && back.op == a.until.op,
                        "a run_until condition does not print back to itself: " + a.until.text());
            }
    }
    return 0;
}
