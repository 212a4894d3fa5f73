// Rendering of deployment manifests: an Akash SDL v2 and a Terraform tfvars
// file, both pinned to one image by commit SHA and digest.
//
// Pure functions (no I/O): the caller reads the template and writes the
// result. The only image they ever put into a manifest is a resolved
// `repository:<git sha>@sha256:…`; a reference without a digest, or whose
// tag is not a full commit SHA (`latest`, `main`, …), is refused, so a
// floating tag can never reach a deployment.
//
//   SdlRenderRequest req{.template_yaml = template_text,
//                        .service = "api",
//                        .image = pinned,  // registry/app:<sha>@sha256:…
//                        .env = ImageEnv(pinned)};
//   SHAPIN_ASSIGN_OR_RETURN(std::string sdl, RenderSdl(req));
//   SHAPIN_ASSIGN_OR_RETURN(std::string tfvars, RenderTfvars(pinned));
#ifndef SHAPIN_DEPLOY_SVC_SDL_RENDERER_H_
#define SHAPIN_DEPLOY_SVC_SDL_RENDERER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/image_ref.h"

namespace shapin::deploy {

// One environment variable for the pinned service.
struct EnvVar {
  std::string name;  // [A-Za-z_][A-Za-z0-9_]*
  std::string value;

  friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

struct SdlRenderRequest {
  // The template's YAML text: an SDL v2 document (`version: "2.0"`,
  // `services`, `profiles`, `deployment`).
  absl::string_view template_yaml = {};
  // The service whose image is pinned: a key of `services` and of
  // `deployment`.
  std::string service;
  // Must carry a tag that is a full git SHA and a digest.
  ImageRef image;
  // Set on the pinned service; an entry of the same name in the template is
  // replaced, others are kept in their order and these are appended.
  std::vector<EnvVar> env = {};
};

// The rendered SDL text, with `services.<service>.image` =
// `image.ToString()`. Every other service's image must already be pinned
// by digest (a template may not smuggle in a floating tag).
//
// INVALID_ARGUMENT (naming what is wrong) for: an image without a digest,
// a tag that is missing or not a 40-character commit SHA, a template that
// is not YAML or not SDL v2-shaped, an unknown service, another service
// with an unpinned image, a malformed env name.
//
// The output is produced by yaml-cpp's emitter, so every value is quoted
// and escaped as needed (`: `, `#`, newlines survive a load). Comments in
// the template are not carried over (yaml-cpp does not keep them); scalars
// quoted in the template stay quoted (`version: "2.0"` must stay a string).
absl::StatusOr<std::string> RenderSdl(const SdlRenderRequest& request);

// GIT_SHA=<tag> and IMAGE_DIGEST=<digest> of a pinned reference, for the
// app to report what it runs. Empty when `image` lacks tag or digest.
std::vector<EnvVar> ImageEnv(const ImageRef& image);

// A Terraform .tfvars file with the same pin:
//
//   image_repository = "ghcr.io/acme/app"
//   image_sha        = "3f2a…"
//   image_digest     = "sha256:…"
//   image_ref        = "ghcr.io/acme/app:3f2a…@sha256:…"
//
// Values are HCL string literals (quotes, backslashes, control characters,
// `${` and `%{` escaped). Same INVALID_ARGUMENT rules for the image as
// RenderSdl.
absl::StatusOr<std::string> RenderTfvars(const ImageRef& image);

// The HCL quoted-string literal for `value`, quotes included.
std::string HclQuote(absl::string_view value);

// OK when `image` has a digest and a tag that is a full commit SHA;
// otherwise INVALID_ARGUMENT saying which is missing. For callers that want
// to check before rendering.
absl::Status CheckPinned(const ImageRef& image);

}  // namespace shapin::deploy

#endif  // SHAPIN_DEPLOY_SVC_SDL_RENDERER_H_
