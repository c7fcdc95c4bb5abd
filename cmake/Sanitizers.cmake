# AddressSanitizer + UndefinedBehaviorSanitizer, scoped to our own targets.
set(SG_SAN_FLAGS)
if(SG_SANITIZE)
  set(SG_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer)
endif()

function(sg_apply_sanitizers target)
  if(SG_SANITIZE)
    target_compile_options(${target} PRIVATE ${SG_SAN_FLAGS})
    target_link_options(${target} PRIVATE ${SG_SAN_FLAGS})
  endif()
endfunction()
