# Deployment suite (issue 8): the Dockerfile, the runtime image's packages and deploy/terraform,
# as ctest cases deploy.<check>. See each script's docstring for what it checks.
#   dockerfile_lint[_selftest]   dockerfile-utils (tests/package.json) + the image's rules
#   runtime_libs[_selftest]      apt-runtime.txt provides every library `ldd imgsvc` needs
#   terraform_parse/_policy/_shape/_selftest   @cdktf/hcl2json over deploy/terraform/*.tf
#   healthcheck                  `imgsvc healthcheck` (the HEALTHCHECK) against a real serve
#   nginx_lb_selftest            the replicas' nginx config: nginx -t, balancing, failover
# npm tools come from tests/node_modules (scripts/test.sh runs `npm ci` in tests/); a missing
# tool skips (77), or fails under IMGSVC_TEST_STRICT=1.
set(_deploy_dir ${CMAKE_CURRENT_LIST_DIR})
set(_deploy_cases
    "dockerfile_lint|dockerfile_lint.py|lint"
    "dockerfile_lint_selftest|dockerfile_lint.py|selftest"
    "runtime_libs|runtime_libs.py|check"
    "runtime_libs_selftest|runtime_libs.py|selftest"
    "terraform_parse|tf_check.py|parse"
    "terraform_policy|tf_check.py|policy"
    "terraform_shape|tf_check.py|shape"
    "terraform_selftest|tf_check.py|selftest"
    "nginx_lb_selftest|nginx_lb.py|selftest"
    "healthcheck|healthcheck.py|run")
foreach(_case IN LISTS _deploy_cases)
    string(REPLACE "|" ";" _parts "${_case}")
    list(GET _parts 0 _name)
    list(GET _parts 1 _script)
    list(GET _parts 2 _mode)
    add_test(NAME deploy.${_name}
             COMMAND ${IMGSVC_PYTHON} ${_deploy_dir}/${_script} ${_mode})
    set_tests_properties(deploy.${_name} PROPERTIES
        ENVIRONMENT "${IMGSVC_TEST_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS deploy)
endforeach()
