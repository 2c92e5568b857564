# check.cmake — builds each TARGET:HEADER of CASES in BUILD_DIR; each must fail because HEADER is
# not found (any other outcome fails the test, a successful build first of all).
foreach(case IN LISTS CASES)
  string(REPLACE ":" ";" parts "${case}")
  list(GET parts 0 target)
  list(GET parts 1 header)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${target}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${target}: built, but ${header} must not be visible to its layer")
  endif()
  string(FIND "${out}" "${header}: No such file" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${target}: failed for another reason than ${header}:\n${out}")
  endif()
  message(STATUS "${target}: refused, ${header} is not on its include path")
endforeach()
