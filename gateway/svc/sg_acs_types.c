/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attachment types ACS Email accepts; see sg_acs.h. The sandbox checks
 * requests against the same list, so the two cannot disagree.
 */
#include "svc/sg_acs.h"

#include <string.h>
#include <strings.h>

/* Attachment types accepted (microsoft-apis.md §4.2, §4.6: "about 60"). */
static const char *const allowed_types[] = {
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12",
    "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
    "application/vnd.ms-outlook",
    "application/vnd.ms-publisher",
    "application/vnd.visio",
    "application/onenote",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/rtf",
    "application/epub+zip",
    "application/json",
    "application/xml",
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/x-tar",
    "application/ogg",
    "application/vnd.ms-fontobject",
    "text/plain",
    "text/csv",
    "text/calendar",
    "text/html",
    "text/xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/tiff",
    "image/webp",
    "image/svg+xml",
    "image/vnd.microsoft.icon",
    "audio/aac",
    "audio/midi",
    "audio/mpeg",
    "audio/ogg",
    "audio/opus",
    "audio/wav",
    "audio/webm",
    "audio/x-ms-wma",
    "video/3gpp",
    "video/3gpp2",
    "video/mp4",
    "video/mpeg",
    "video/ogg",
    "video/webm",
    "video/x-msvideo",
    "video/x-ms-wmv",
    "font/otf",
    "font/ttf",
    "font/woff",
    "font/woff2",
    NULL};

bool sg_acs_type_allowed(const char *ct) {
  if (ct == NULL)
    return false;
  size_t n = strcspn(ct, "; \t");
  for (size_t i = 0; allowed_types[i]; i++)
    if (strlen(allowed_types[i]) == n && strncasecmp(ct, allowed_types[i], n) == 0)
      return true;
  return false;
}
