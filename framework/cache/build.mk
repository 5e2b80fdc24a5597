# framework/cache: what an object of the node-local cache is (its content
# manifest). Needs libxxhash (Debian libxxhash-dev, no .pc file).
SL_CACHE_SRCS := $(wildcard framework/cache/*.c)
