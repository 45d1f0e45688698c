// Fuzz target of the safetensors reader (safetensors.h), how starting weights come in
// (model.init_file), and of loadParameters (param_file.h) on a small layout. SafeTensors::read and
// every accessor must return or throw FileError naming the file; an entry it returns lies inside
// the data section with exactly the bytes its shape and dtype need.
#include "core/model/param_file.h"
#include "core/model/safetensors.h"
#include "fuzz/fuzz_contract.h"

using namespace h158;
using namespace h158::fuzz;

namespace {

// A linear layer's layout as the models name theirs: weight (out 2, in 3), bias (2).
const ParamLayout& smallLayout() {
    static const ParamLayout layout = [] {
        ParamLayout l;
        l.add("weight", 2, 3, false);
        l.add("bias", 2, 1, false);
        return l;
    }();
    return layout;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = (scratchDir() / "weights.safetensors").string();
    writeBytes(path, data, size);
    SafeTensors st;
    if (!returnsOrRefuses<FileError>("SafeTensors::read", path, [&] { st = SafeTensors::read(path); }))
        return 0;
    for (const std::string& name : st.names()) {
        const TensorEntry& e = st.entry(name);
        require(e.begin >= 0 && e.begin <= e.end, "tensor " + name + ": byte range");
        require(e.end - e.begin == e.count() * dtypeSize(e.dtype), "tensor " + name + ": bytes");
        returnsOrRefuses<FileError>("floats", path, [&] { (void)st.floats(name); });
        returnsOrRefuses<FileError>("integers", path, [&] { (void)st.integers(name); });
    }
    std::vector<float> params(size_t(smallLayout().size()));
    returnsOrRefuses<FileError>("loadParameters", path,
                                [&] { loadParameters(smallLayout(), st, "", params.data()); });
    return 0;
}
