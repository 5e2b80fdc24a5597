# dockerfiles: `make images` builds sluice/base and one image per module
# (plus sluice/busybox for tests and benchmarks) with podman, FROM scratch,
# tagged with the project version. See dockerfiles/README.md.
IMAGE_VERSION := 0.1.0
IMAGE_PROGRAMS := mwa-down unpack repack pull-unpack beam-maker down-sampler fits-merger \
  presto-search sluice-init
.PHONY: images
images: $(addprefix $(B)/bin/,$(IMAGE_PROGRAMS))
	@dockerfiles/build.sh $(IMAGE_VERSION)
