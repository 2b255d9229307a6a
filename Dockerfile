# A container for a service that tags clinical text with biobertpt predict.
#
#   docker build -t biobertpt .
#   docker run --rm -i -v "$PWD/model:/model:ro" biobertpt -model /model < notes.txt
#
# Stage one is the documented setup and build on Debian 12 with Debian's
# libtorch 1.13 (CPU); stage two holds the binary and libtorch's shared
# libraries only. examples/usermodule/dockerfile_test.go parses this file and dry-runs
# its steps.
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libtorch-dev libopenblas0-pthread g++ binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN go run ./examples/setup -no-apt
RUN go build -o /out/biobertpt ./examples/biobertpt

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libtorch1.13 libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/biobertpt /usr/local/bin/biobertpt
USER nobody
ENTRYPOINT ["/usr/local/bin/biobertpt", "predict"]
