# Writes a C++ file holding every JSON file of FILES as a raw string: {name, text} pairs in the
# array kEmbedded${KIND}s, their number in kEmbedded${KIND}Count (KIND Preset by default;
# Lesson for resources/lessons).
if(NOT DEFINED KIND)
  set(KIND Preset)
endif()
set(body "// Generated from the ${KIND} JSON files; do not edit.\n#include <string_view>\n#include <utility>\nnamespace h158 {\nextern const std::pair<std::string_view, std::string_view> kEmbedded${KIND}s[];\nextern const int kEmbedded${KIND}Count;\nconst std::pair<std::string_view, std::string_view> kEmbedded${KIND}s[] = {\n")
separate_arguments(files UNIX_COMMAND "${FILES}")
list(SORT files)
set(count 0)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  file(READ "${f}" text)
  string(APPEND body "  {\"${name}\", R\"h158json(${text})h158json\"},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "};\nconst int kEmbedded${KIND}Count = ${count};\n}  // namespace h158\n")
file(WRITE "${OUT}" "${body}")
