# AddressSanitizer + UndefinedBehaviorSanitizer, scoped to our own targets.
# With SG_BUILD_FUZZERS (clang only) every target of ours is also compiled with
# libFuzzer's coverage instrumentation (-fsanitize=fuzzer-no-link), so the
# fuzz targets link the ordinary sendgate_core and are guided by all of it;
# only the fuzz executables link the libFuzzer driver (-fsanitize=fuzzer).
set(SG_SAN_FLAGS)
set(SG_SAN_LINK_FLAGS)
if(SG_SANITIZE OR SG_BUILD_FUZZERS)
  set(SG_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer)
  set(SG_SAN_LINK_FLAGS -fsanitize=address,undefined)
endif()
if(SG_BUILD_FUZZERS)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SG_BUILD_FUZZERS needs clang: CC=clang cmake -DSG_BUILD_FUZZERS=ON ...")
  endif()
  list(APPEND SG_SAN_FLAGS -fsanitize=fuzzer-no-link)
endif()

function(sg_apply_sanitizers target)
  if(SG_SAN_FLAGS)
    target_compile_options(${target} PRIVATE ${SG_SAN_FLAGS})
    target_link_options(${target} PRIVATE ${SG_SAN_LINK_FLAGS})
  endif()
endfunction()
