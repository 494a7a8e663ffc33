# Warnings on for our own targets; sanitizers by option.
add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-Wall;-Wextra;-Wno-unused-parameter>")

if(PEAKNET_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(PEAKNET_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT PEAKNET_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PEAKNET_SANITIZE must be '', 'address' or 'thread', got '${PEAKNET_SANITIZE}'")
endif()

# peaknet_target_defaults(target): the settings every library target of ours shares (C++20).
function(peaknet_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()
