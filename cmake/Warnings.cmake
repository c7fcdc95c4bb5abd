# Picky warnings, probed once and applied per target (never to CMAKE_C_FLAGS).
include(CheckCCompilerFlag)
set(SG_WARNING_FLAGS)
foreach(flag -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes
             -Wundef -Wwrite-strings -Wformat=2 -Wcast-align -Wpointer-arith
             -Wno-unused-parameter -Wvla -Wimplicit-fallthrough)
  string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND SG_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(SG_WERROR)
  list(APPEND SG_WARNING_FLAGS -Werror)
endif()

function(sg_apply_warnings target)
  target_compile_options(${target} PRIVATE ${SG_WARNING_FLAGS})
endfunction()
