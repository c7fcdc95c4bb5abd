# Every build option of the project, in one place.
option(SG_WERROR "Treat compiler warnings as errors" OFF)
option(SG_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SG_BUILD_BENCH "Build the load generator and benchmark tools" ON)
option(SG_BUILD_FUZZERS "Build libFuzzer targets (needs clang)" OFF)
option(BUILD_TESTING "Build the tests" ON)
