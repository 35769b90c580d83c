# pareModel.cmake - pare_add_model(), loaded by pareConfig.cmake.
#
#   pare_add_model(<target> MODEL <file>
#                  [NAME <name>]
#                  [INPUT_SHAPES <input>=<d1>,<d2>,... ...]
#                  [PASSES <pipeline>]
#                  [OPTIONS <pare compile option>...])
#
# Compiles <file> with `pare compile` at build time into a STATIC library
# <target>. Linking <target> puts the generated header <name>.h (<name>_run,
# <name>_workspace_size, the <NAME>_INPUT_0_SHAPE... constants) on the
# include path and links pare::runtime and libm, which generated code needs.
#
#   NAME          symbol prefix and header name; default: <target> made a C
#                 identifier
#   INPUT_SHAPES  one --input-shape per entry, binding symbolic input dims
#   PASSES        passed as `--passes <pipeline>` (see `pare passes`), e.g.
#                 "fold-batchnorm,cleanup,dce"
#   OPTIONS       further `pare compile` arguments as they are, e.g.
#                 -O2 or --mcpu x86-64-v3 for code that runs on other CPUs
#                 than the build machine's (pare's default is native)
#
# Rebuilds: the model and the pare executable are dependencies; so are the
# model's external-data files, through the depfile pare writes (-MD), where
# the generator supports DEPFILE (Makefiles and Ninja with CMake >= 3.20;
# elsewhere only the model file itself is tracked). A changed NAME,
# INPUT_SHAPES, PASSES or OPTIONS changes the command line, which both
# generators track, so that too rebuilds the model.

# pare names the object in its depfile by the absolute path it was given,
# while build.ninja names it relative to the build folder; with CMP0116 OLD
# Ninja sees no match and recompiles the model on every build. NEW has CMake
# rewrite the depfile first. The function below records the policy setting,
# so it holds in projects whose cmake_minimum_required predates 3.20.
if(POLICY CMP0116)
  cmake_policy(SET CMP0116 NEW)
endif()

find_library(PARE_MATH_LIBRARY m)

function(pare_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MODEL;NAME;PASSES" "INPUT_SHAPES;OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pare_add_model(${target}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "pare_add_model(${target}): MODEL <file> is required")
  endif()
  # The archive is made by the C toolchain (the target has no sources to
  # infer a language from).
  if(NOT CMAKE_C_COMPILER_LOADED)
    message(FATAL_ERROR "pare_add_model(${target}): enable the C language in project()")
  endif()
  if(arg_NAME)
    set(name "${arg_NAME}")
  else()
    string(MAKE_C_IDENTIFIER "${target}" name)
  endif()
  # pare checks this too, but only at build time.
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "pare_add_model(${target}): NAME '${name}' is not a C identifier")
  endif()
  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")

  # One folder per target, so that its include path holds only its header.
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/pare/${target}")
  set(obj "${dir}/${name}.o")
  set(header "${dir}/${name}.h")
  set(depfile "${dir}/${name}.d")

  set(args)
  foreach(shape IN LISTS arg_INPUT_SHAPES)
    list(APPEND args --input-shape "${shape}")
  endforeach()
  if(NOT "${arg_PASSES}" STREQUAL "")
    list(APPEND args --passes "${arg_PASSES}")
  endif()
  list(APPEND args ${arg_OPTIONS})

  set(depfile_args)
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.20 AND CMAKE_GENERATOR MATCHES "Ninja|Makefiles")
    set(depfile_args DEPFILE "${depfile}")
  endif()

  add_custom_command(
    OUTPUT "${obj}" "${header}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
    COMMAND pare::pare compile "${model}" -o "${obj}" --header "${header}" --name "${name}"
            -MD -MF "${depfile}" ${args}
    DEPENDS "${model}" pare::pare
    ${depfile_args}
    COMMENT "pare compile ${name}: ${model}"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${target} STATIC "${obj}")
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} INTERFACE "${dir}")
  target_link_libraries(${target} PUBLIC pare::runtime)
  if(PARE_MATH_LIBRARY)
    target_link_libraries(${target} PUBLIC "${PARE_MATH_LIBRARY}")
  endif()
endfunction()
