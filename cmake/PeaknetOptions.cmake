# Build switches. Defaults give the full CPU build; CUDA is used when nvcc is found.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

option(PEAKNET_BUILD_TESTS "Build the GoogleTest suites" ON)
option(PEAKNET_BUILD_BENCH "Build the benchmarks in bench/" ON)
option(PEAKNET_BUILD_FUZZERS "Build libFuzzer targets (needs clang)" OFF)
set(PEAKNET_CUDA "AUTO" CACHE STRING "Build CUDA targets: AUTO, ON or OFF")
set_property(CACHE PEAKNET_CUDA PROPERTY STRINGS AUTO ON OFF)
set(PEAKNET_TORCH "ON" CACHE STRING "Build LibTorch targets (model, inferd): ON or OFF")
# Where the suite's JSON configs are installed; peakctl and the units read <dir>/peaknet.json.
set(PEAKNET_CONFIG_DIR "/etc/peaknet" CACHE PATH "Where the suite's JSON configs are installed")
set(PEAKNET_SANITIZE "" CACHE STRING "Sanitizers: '', 'address' (ASan+UBSan) or 'thread' (TSan)")
