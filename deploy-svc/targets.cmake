# deploy-svc rendering and apply targets, included from deploy-svc/CMakeLists.txt.
#
#   shapin_sdl_renderer    pure: SDL v2 / tfvars rendering (no I/O)
#   shapin_deploy_targets  adapters: local podman, Akash Console API,
#                          provider-services CLI (DeployTarget implementations)

set(_DEPLOY_DIR ${CMAKE_CURRENT_LIST_DIR})

add_library(shapin_sdl_renderer STATIC ${_DEPLOY_DIR}/sdl_renderer.cc)
target_include_directories(shapin_sdl_renderer PUBLIC ${SHAPIN_SOURCE_ROOT})
target_link_libraries(shapin_sdl_renderer PUBLIC shapin_domain yaml-cpp
  absl::status absl::statusor absl::strings absl::str_format)

shapin_add_test(NAME deploy_sdl_renderer_test
  SOURCES ${_DEPLOY_DIR}/sdl_renderer_test.cc
  LIBS shapin_sdl_renderer yaml-cpp LABELS unit TIMEOUT 30)
target_include_directories(deploy_sdl_renderer_test PRIVATE ${SHAPIN_SOURCE_ROOT})
target_compile_definitions(deploy_sdl_renderer_test PRIVATE
  SHAPIN_SOURCE_DIR="${SHAPIN_SOURCE_ROOT}")

# --- apply targets (adapters) -------------------------------------------------
add_library(shapin_deploy_targets STATIC
  ${_DEPLOY_DIR}/adapters/akash_json.cc
  ${_DEPLOY_DIR}/adapters/akash_console_target.cc
  ${_DEPLOY_DIR}/adapters/akash_cli_target.cc
  ${_DEPLOY_DIR}/adapters/local_podman_target.cc)
target_include_directories(shapin_deploy_targets PUBLIC ${SHAPIN_SOURCE_ROOT})
target_link_libraries(shapin_deploy_targets PUBLIC
  shapin_domain shapin_log shapin_subprocess shapin_registry
  CURL::libcurl nlohmann_json::nlohmann_json
  absl::status absl::statusor absl::strings absl::str_format absl::time
  absl::synchronization absl::cleanup)

# --- test support: fakes started beside a test ----------------------------------
add_library(shapin_fake_process STATIC
  ${SHAPIN_SOURCE_ROOT}/tests/fakes/background_process.cc)
target_include_directories(shapin_fake_process PUBLIC ${SHAPIN_SOURCE_ROOT})
target_link_libraries(shapin_fake_process PUBLIC absl::status absl::statusor
  absl::strings absl::time)

shapin_add_test(NAME deploy_akash_console_target_test
  SOURCES ${_DEPLOY_DIR}/adapters/akash_console_target_test.cc
  LIBS shapin_deploy_targets shapin_sdl_renderer shapin_fake_process
    shapin_registry_test_support
  LABELS integration TIMEOUT 60)
target_compile_definitions(deploy_akash_console_target_test PRIVATE
  SHAPIN_SOURCE_DIR="${SHAPIN_SOURCE_ROOT}")

shapin_add_test(NAME deploy_akash_cli_target_test
  SOURCES ${_DEPLOY_DIR}/adapters/akash_cli_target_test.cc
  LIBS shapin_deploy_targets shapin_sdl_renderer shapin_registry_test_support
  LABELS integration TIMEOUT 60)
target_compile_definitions(deploy_akash_cli_target_test PRIVATE
  SHAPIN_SOURCE_DIR="${SHAPIN_SOURCE_ROOT}")

shapin_add_test(NAME deploy_local_podman_target_test
  SOURCES ${_DEPLOY_DIR}/adapters/local_podman_target_test.cc
  LIBS shapin_deploy_targets shapin_registry_test_support
  LABELS integration TIMEOUT 300)
target_compile_definitions(deploy_local_podman_target_test PRIVATE
  SHAPIN_SOURCE_DIR="${SHAPIN_SOURCE_ROOT}")
