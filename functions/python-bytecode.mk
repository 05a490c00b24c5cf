# The bytecode build every function's Makefile includes. `sam build` (`Metadata: BuildMethod: makefile`)
# copies the function's CodeUri to a scratch directory and runs `make --makefile <CodeUri>/Makefile
# build-<LogicalId>` there, with ARTIFACTS_DIR set. The --makefile path is the original one, so a Makefile
# finds its own folder, and this file next to it, from $(MAKEFILE_LIST) wherever make runs. (Not with
# `sam build --use-container`, which mounts only the CodeUri: these builds run on the host, no Docker.)
#
# Why not SAM's default Python builder: it ships no bytecode, and Lambda's code directory is read-only, so
# every module would be compiled from source at each cold start. Here the requirements are installed for
# the target platform and everything is compiled once, with the runtime's own Python, into
# unchecked-hash .pyc files (valid whatever the file times are after the zip is unpacked).
#
# The including Makefile sets, before `include`:
#   HERE            its own folder (the function's CodeUri)
#   PYTHON_VERSION  its functions' Runtime in template.yaml, without "python" (bytecode is per version)
# and may be given:
#   RUNTIME_PYTHON  the interpreter that compiles the bytecode: it must be Python $(PYTHON_VERSION)
#                   (from the environment too, as `sam build` runs make with its own environment)
#   LAMBDA_ARCHITECTURE  arm64 (the default) or x86_64: the template's Architecture parameter, from the
#                   environment too. sam build gives make no architecture (the makefile builder sets only
#                   ARTIFACTS_DIR), so whoever sets the parameter sets this with it: `make build
#                   ARCHITECTURE=x86_64` and `make sam-local` do, as must a plain `sam build
#                   --parameter-overrides Architecture=x86_64` (LAMBDA_ARCHITECTURE=x86_64 sam build ...).
#   REQUIREMENTS    the requirements file, on the command line (default: requirements.txt in $(HERE))
#
# A target then reads: build-MyFunction: check-runtime-python, and $(call python-bytecode-build,<sources>)
# with the files and packages of $(HERE) the function ships, and the modules of ../shared it imports (code
# two functions ship alike, as ../shared/route_table.py and ../shared/authorizer_context.py): each lands at the top of the artifact.

RUNTIME_PYTHON ?= python$(PYTHON_VERSION)
REQUIREMENTS := $(HERE)/requirements.txt
LAMBDA_ARCHITECTURE ?= arm64
# pip's name for the platform.
ARCH := $(if $(filter x86_64,$(LAMBDA_ARCHITECTURE)),x86_64,aarch64)
# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): any of these wheels loads there.
PLATFORMS := manylinux2014_$(ARCH) manylinux_2_28_$(ARCH) manylinux_2_34_$(ARCH)

.PHONY: check-runtime-python check-architecture

define python-bytecode-build
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	"$(RUNTIME_PYTHON)" -m pip install --quiet --disable-pip-version-check --no-compile \
		--target "$(ARTIFACTS_DIR)" --implementation cp --python-version $(PYTHON_VERSION) \
		--only-binary=:all: $(addprefix --platform ,$(PLATFORMS)) -r "$(REQUIREMENTS)"
	cp -R $(foreach source,$(1),"$(HERE)/$(source)") "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -type d -prune -exec rm -rf {} +
	"$(RUNTIME_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)" >/dev/null
endef

check-architecture:
	@case "$(LAMBDA_ARCHITECTURE)" in arm64|x86_64) ;; *) \
		echo "error: LAMBDA_ARCHITECTURE is '$(LAMBDA_ARCHITECTURE)': arm64 or x86_64, as the template's" \
			"Architecture parameter" >&2; exit 2;; esac

# Run, not looked up: an inactive pyenv shim is found on PATH and fails only when run.
check-runtime-python: check-architecture
	@"$(RUNTIME_PYTHON)" -c "" >/dev/null 2>&1 || { \
		echo "error: $(RUNTIME_PYTHON) not found (or it does not run: an inactive pyenv shim?). The bytecode" \
			"must be compiled by the function's runtime," >&2; \
		echo "Python $(PYTHON_VERSION): install it, or pass RUNTIME_PYTHON=/path/to/python$(PYTHON_VERSION)." >&2; \
		exit 1; }
	@"$(RUNTIME_PYTHON)" -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
		sys.exit(None if v == "$(PYTHON_VERSION)" else \
		"error: $(RUNTIME_PYTHON) is Python " + v + ", the runtime is Python $(PYTHON_VERSION)")'
