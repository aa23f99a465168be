/*
 * lrb.h - liveredge serial bridge: C99 reference codec (COBS + CRC-32 framing, message layouts).
 *
 * Frame on the wire: COBS(header | payload | crc32) 0x00, all integers little-endian.
 *   header: version u8, type u8, seq u16, flags u8, length u16  (7 bytes)
 *   crc:    CRC-32/ISO-HDLC (zlib) over header + payload        (4 bytes)
 * The specification is docs/serial-protocol.md; firmware_bridge/vectors.json is the shared test table.
 *
 * No malloc, no global state, no dependencies beyond <stddef.h>/<stdint.h>/<string.h>.
 * Buffers are fixed: a decoder is sizeof(lrb_decoder) (~520 bytes) and is caller-owned.
 * Decoding checks, in order: overflow, cobs, short, crc, version, length, unknown_type, payload_size.
 */
#ifndef LRB_H
#define LRB_H

#include <stddef.h>
#include <stdint.h>

#define LRB_PROTOCOL_VERSION 1u
#define LRB_SCHEMA_HASH 0x936027bcUL
#define LRB_HEADER_SIZE 7u
#define LRB_CRC_SIZE 4u
#define LRB_MAX_FRAME 256u /* decoded: header + payload + crc */
#define LRB_MAX_PAYLOAD (LRB_MAX_FRAME - LRB_HEADER_SIZE - LRB_CRC_SIZE)
#define LRB_MAX_ENCODED (LRB_MAX_FRAME + 1u + LRB_MAX_FRAME / 254u) /* COBS bound, without the 0x00 */
#define LRB_MAX_WIRE (LRB_MAX_ENCODED + 1u)                         /* with the 0x00 delimiter */

#define LRB_FLAG_ACK_REQUESTED 0x01u
#define LRB_FLAG_RETRANSMIT 0x02u

enum lrb_type {
    LRB_HELLO = 0x01, LRB_HELLO_ACK = 0x02, LRB_HEARTBEAT = 0x03,
    LRB_PROBE_EVENT = 0x10, LRB_EXAM_START = 0x11, LRB_EXAM_END = 0x12,
    LRB_RESULT = 0x20, LRB_EXAM_SUMMARY = 0x21, LRB_ALERT = 0x22,
    LRB_ACK = 0x30, LRB_NACK = 0x31
};

typedef enum {
    LRB_OK = 0,
    LRB_ERR_OVERFLOW,
    LRB_ERR_COBS,
    LRB_ERR_SHORT,
    LRB_ERR_CRC,
    LRB_ERR_VERSION,
    LRB_ERR_LENGTH,
    LRB_ERR_UNKNOWN_TYPE,
    LRB_ERR_PAYLOAD_SIZE,
    LRB_NEED_MORE /* decoder: no segment completed yet (also returned for empty segments) */
} lrb_status;

typedef struct {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
    uint8_t flags;
    uint16_t length;
    const uint8_t *payload; /* points into the decoder's buffer; valid until the next feed */
} lrb_frame;

typedef struct {
    const char *name;
    uint8_t bytes; /* 1, 2, 4 or 8 */
} lrb_field;

typedef struct {
    uint8_t type;
    const char *name;
    uint8_t nfields;
    const lrb_field *fields;
} lrb_message_schema;

/* class_index codes (spec 5.5); part of the schema hash. LRB_CLASS_NOT_LIVER is never a diagnosis: prompt the
 * operator to put the probe on the liver. */
enum lrb_class {
    LRB_CLASS_NORMAL = 0, LRB_CLASS_STEATOSIS = 1, LRB_CLASS_FIBROSIS = 2, LRB_CLASS_FOCAL_LESION = 3,
    LRB_CLASS_NOT_LIVER = 4, LRB_CLASS_UNCERTAIN = 255
};

typedef struct {
    uint8_t code;
    const char *name;
} lrb_class_entry;

typedef struct {
    uint8_t buf[LRB_MAX_ENCODED];
    uint8_t frame[LRB_MAX_ENCODED];
    size_t len;
    int overflow;
} lrb_decoder;

uint32_t lrb_crc32(const uint8_t *data, size_t len);
/* Returns the encoded length (never 0 on success), or 0 if cap is too small. No delimiter. */
size_t lrb_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* Returns 0 and sets *out_len, or -1 on invalid COBS / insufficient cap. */
int lrb_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Encode one frame including its 0x00 delimiter; returns bytes written or 0 (len too big / cap too small). */
size_t lrb_encode(uint8_t type, uint16_t seq, uint8_t flags, const uint8_t *payload, size_t len,
                  uint8_t *out, size_t cap);
/* Decode one segment (no delimiter). work must hold LRB_MAX_ENCODED bytes; frame->payload points into it. */
lrb_status lrb_decode_segment(const uint8_t *seg, size_t len, uint8_t *work, lrb_frame *frame);

void lrb_decoder_init(lrb_decoder *dec);
/* Feed one byte. Returns LRB_NEED_MORE, or the outcome of the segment this 0x00 completed. */
lrb_status lrb_decoder_feed(lrb_decoder *dec, uint8_t byte, lrb_frame *frame);

const char *lrb_status_name(lrb_status status);
/* Schema table; *count receives the number of message types. */
const lrb_message_schema *lrb_schema(size_t *count);
const lrb_message_schema *lrb_find_schema(uint8_t type);
/* Class table in ascending code order; *count receives its length. */
const lrb_class_entry *lrb_classes(size_t *count);
/* Name of a class code ("normal", ..., "not_liver", "uncertain"), or NULL for a code the table lacks. */
const char *lrb_class_name(uint8_t code);
/* Payload size of a type, or -1 if unknown. */
int lrb_payload_size(uint8_t type);
/* Unpack a payload into out[] (wire order); returns the field count or -1. */
int lrb_unpack_fields(uint8_t type, const uint8_t *payload, size_t len, uint64_t *out, size_t cap);
/* Pack field values into a payload; returns the payload size or -1. */
int lrb_pack_fields(uint8_t type, const uint64_t *values, size_t n, uint8_t *out, size_t cap);

/* Receiver rules for a frame that decoded LRB_OK (spec 9.1, protocol 1 revision 2). */
typedef enum { LRB_ROLE_HOST = 0, LRB_ROLE_MCU = 1 } lrb_role;
typedef enum {
    LRB_V_CONTROL = 0,          /* HELLO, HELLO_ACK, HEARTBEAT, ACK, NACK: the session handles it */
    LRB_V_DELIVER,              /* best-effort application message: deliver, never ACK (even with ACK_REQUESTED) */
    LRB_V_ACK,                  /* reliable type: ACK (with or without ACK_REQUESTED), deliver once per exam_id */
    LRB_V_NACK_UNKNOWN_TYPE,    /* sent the wrong way (spec 3): NACK(seq, UNKNOWN_TYPE), do not deliver */
    LRB_V_NACK_BAD_PAYLOAD      /* a field outside its range (spec 4, 5): NACK(seq, BAD_PAYLOAD), do not deliver */
} lrb_verdict;
#define LRB_RESERVED_QUALITY_BITS 0xFE00u /* quality_flags bits 9..15: cleared on receipt */
lrb_verdict lrb_receive_verdict(lrb_role role, const lrb_frame *frame);
const char *lrb_verdict_name(lrb_verdict verdict);

#endif /* LRB_H */
