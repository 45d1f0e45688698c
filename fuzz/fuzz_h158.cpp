// Fuzz target of the .h158 model file reader (h158_format.h) and the GPT inference loader that
// rebuilds a model from it (gpt_inference.h). Each input is read twice: as given (most mutations
// then stop at the checksum, the reader's first check), and resealed, its fileBytes field and
// checksum set to agree with its bytes, so the fields behind the checksum are reached too. A file
// the reader takes must then be usable as its header promises: every tensor dequantizes, it
// writes back to a file the reader takes again, and GptInference either loads it and runs a
// token or refuses it with a FileError naming the file.
#include <span>
#include <vector>

#include "core/infer/gpt_inference.h"
#include "core/io/h158_format.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

namespace {

// What parseH158 promises of a model it returns (h158_format.h).
void checkModel(const H158Model& m) {
    for (const H158Tensor& t : m.tensors) {
        require(!t.name.empty() && t.name.size() < size_t(kH158NameBytes), "tensor name length");
        require(t.rows >= 1 && t.cols >= 1, "tensor " + t.name + ": empty shape");
        if (t.kind == H158Kind::Fp32) {
            require(t.values.size() == size_t(t.rows * t.cols) && t.scale.empty() &&
                        t.packed.empty(),
                    "fp32 tensor " + t.name + ": data does not match its shape");
        } else {
            require(t.scale.size() == (t.scales == H158Scales::PerTensor ? 1 : size_t(t.rows)),
                    "tensor " + t.name + ": scale count");
            require(t.packed.size() == size_t(t.rows * t.rowStride()),
                    "tensor " + t.name + ": packed bytes");
            for (float s : t.scale) require(std::isfinite(s), "tensor " + t.name + ": scale");
        }
        mustNotThrow("dequantized", [&] { (void)t.dequantized(); });
    }
    mustNotThrow("serializeH158 + parseH158", [&] {
        const std::vector<uint8_t> again = serializeH158(m);
        (void)parseH158(again, "rewritten");
    });
}

void checkInference(const H158Model& m, const std::string& where, int32_t token) {
    std::unique_ptr<GptInference> g;
    returnsOrRefuses<FileError>("GptInference", where,
                                [&] { g = std::make_unique<GptInference>(m, where); });
    if (g) mustNotThrow("GptInference::append", [&] { (void)g->append(token); });
}

void putU64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> raw(data, size);
    returnsOrRefuses<FileError>("parseH158", "given.h158", [&] {
        (void)parseH158(raw, "given.h158");
    });
    if (size < size_t(kH158FixedHeaderBytes)) return 0;

    std::vector<uint8_t> sealed(raw.begin(), raw.end());
    putU64(sealed.data() + 16, size);
    putU64(sealed.data() + 8, fnv1a64(std::span<const uint8_t>(sealed).subspan(16)));
    static const std::string path = (scratchDir() / "model.h158").string();
    writeBytes(path, sealed.data(), sealed.size());
    H158Model m;
    if (!returnsOrRefuses<FileError>("readH158", path, [&] { m = readH158(path); })) return 0;
    checkModel(m);
    checkInference(m, path, int32_t(data[size - 1]));
    return 0;
}
