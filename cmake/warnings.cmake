# Warnings and code-generation flags shared by every lorank target.
# Never -ffast-math / -Ofast: the SVD and the NumPy-exact streams depend on IEEE semantics.
function(lorank_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter)
  if(LORANK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(LORANK_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()
