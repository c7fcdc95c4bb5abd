# Parses a message with Python's email package (an independent MIME parser)
# and prints what test_mime_render.c compares: the headers as decoded, the
# tree of parts, each part's decoded content (text as repr, bytes as SHA-256).
import email
import email.policy
import hashlib
import sys

with open(sys.argv[1], "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
for h in ("From", "To", "Cc", "Reply-To", "Bcc", "Subject", "MIME-Version", "X-Campaign",
          "X-Long"):
    v = msg.get(h)
    if v is not None:
        print("H %s: %s" % (h, str(v)))
print("D %s" % ("yes" if msg.get("Date") and msg.get("Message-ID") else "no"))


def walk(part, depth):
    ct = part.get_content_type()
    line = "%sP %s" % ("  " * depth, ct)
    if part.is_multipart():
        print(line)
        for p in part.iter_parts():
            walk(p, depth + 1)
        return
    disp = part.get_content_disposition()
    if disp:
        line += " disp=%s" % disp
    if part.get_filename():
        line += " file=%s" % part.get_filename()
    if part.get("Content-ID"):
        line += " cid=%s" % part.get("Content-ID")
    c = part.get_content()
    if isinstance(c, str):
        line += " text=%r" % c
    else:
        line += " sha=%s" % hashlib.sha256(c).hexdigest()[:16]
    print(line)


walk(msg, 0)
print("defects %d" % sum(len(p.defects) for p in msg.walk()))
