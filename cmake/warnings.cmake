# Warnings and code-generation flags shared by every lorank target.
# Never -ffast-math / -Ofast: the SVD and the NumPy-exact streams depend on IEEE semantics.
# lorank_set_warnings(target [NO_NATIVE]): NO_NATIVE for the per-variant kernel objects,
# whose -march is their variant's (the driver expands -march=native into explicit -m
# feature flags that a later -march would not undo).
function(lorank_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter)
  if(LORANK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(LORANK_NATIVE AND NOT "NO_NATIVE" IN_LIST ARGN)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()
