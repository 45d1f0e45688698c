// A model's parameters as a safetensors file of PyTorch-shaped tensors named as the model's
// layout (the reference's state_dict names): how starting weights come in (model.init_file) and
// how the PyTorch parity fixture is read.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/params.h"
#include "core/model/safetensors.h"

namespace h158 {

// Fills params (layout.size() floats) with the tensors named prefix + tensor name, converted
// from their external shape (params.h). Every tensor of the layout must be present with its
// shape and a float dtype, and every value finite; otherwise throws FileError naming the file
// and the tensor. Tensors of the file that the layout does not name are ignored.
void loadParameters(const ParamLayout& layout, const SafeTensors& file, const std::string& prefix,
                    float* params);

// Writes every tensor of the layout in its external shape (atomically; FileError on failure).
void saveParameters(const ParamLayout& layout, const float* params, const std::string& path,
                    const std::map<std::string, std::string>& metadata = {});

}  // namespace h158
