// Loading and saving a layout's parameters as safetensors (param_file.h).
#include "core/model/param_file.h"

#include <algorithm>
#include <cmath>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {
namespace {

std::string shapeText(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
}

}  // namespace

void loadParameters(const ParamLayout& layout, const SafeTensors& file, const std::string& prefix,
                    float* params) {
    for (const ParamTensor& t : layout.tensors()) {
        const std::string name = prefix + t.name;
        if (!file.contains(name))
            throw FileError(file.path() + ": no tensor '" + name + "' (the model has " +
                            std::to_string(layout.count()) + " tensors, the first '" + prefix +
                            layout[0].name + "')");
        const TensorEntry& e = file.entry(name);
        const std::vector<int64_t> want = externalShape(t);
        if (e.shape != want)
            throw FileError(file.path() + ": tensor '" + name + "' has shape " +
                            shapeText(e.shape) + ", the model needs " + shapeText(want));
        const std::vector<float> v = file.floats(name);
        const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
        if (bad != v.end())
            throw FileError(file.path() + ": tensor '" + name + "' holds a non-finite value at " +
                            std::to_string(bad - v.begin()));
        fromExternal(t, v.data(), params + t.offset);
    }
}

void saveParameters(const ParamLayout& layout, const float* params, const std::string& path,
                    const std::map<std::string, std::string>& metadata) {
    std::vector<TensorOut> out;
    for (const ParamTensor& t : layout.tensors()) {
        TensorOut o{t.name, externalShape(t), std::vector<float>(size_t(t.size()))};
        toExternal(t, params + t.offset, o.values.data());
        out.push_back(std::move(o));
    }
    writeSafeTensors(path, out, metadata);
}

}  // namespace h158
