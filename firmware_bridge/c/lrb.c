/* lrb.c - liveredge serial bridge C99 reference codec; see lrb.h. */
#include "lrb.h"

#include <string.h>

static const lrb_field HELLO_F[] = {{"protocol_version", 1}, {"schema_hash", 4}, {"max_frame", 2},
                                    {"device_id", 8}, {"fw_major", 1}, {"fw_minor", 1}, {"fw_patch", 2}};
static const lrb_field HEARTBEAT_F[] = {{"uptime_ms", 4}, {"rx_errors", 2}};
static const lrb_field PROBE_F[] = {{"kind", 1}, {"frozen", 1}, {"depth_mm", 2}, {"gain_db", 1},
                                    {"preset", 1}, {"button", 1}, {"device_ms", 4}};
static const lrb_field EXAM_F[] = {{"exam_id", 4}, {"device_ms", 4}};
static const lrb_field RESULT_F[] = {{"frame_seq", 4}, {"timestamp_ns", 8}, {"class_index", 1},
                                     {"confidence_e4", 2}, {"quality_flags", 2}};
static const lrb_field SUMMARY_F[] = {{"exam_id", 4}, {"frames", 4}, {"uncertain_frames", 4},
                                      {"class_index", 1}, {"confidence_e4", 2}, {"quality_flags", 2}};
static const lrb_field ALERT_F[] = {{"code", 1}, {"severity", 1}, {"detail", 2}, {"timestamp_ns", 8}};
static const lrb_field ACK_F[] = {{"acked_seq", 2}, {"acked_type", 1}};
static const lrb_field NACK_F[] = {{"nacked_seq", 2}, {"reason", 1}};

#define LRB_N(a) ((uint8_t)(sizeof(a) / sizeof((a)[0])))

static const lrb_message_schema SCHEMA[] = {
    {LRB_HELLO, "HELLO", LRB_N(HELLO_F), HELLO_F},
    {LRB_HELLO_ACK, "HELLO_ACK", LRB_N(HELLO_F), HELLO_F},
    {LRB_HEARTBEAT, "HEARTBEAT", LRB_N(HEARTBEAT_F), HEARTBEAT_F},
    {LRB_PROBE_EVENT, "PROBE_EVENT", LRB_N(PROBE_F), PROBE_F},
    {LRB_EXAM_START, "EXAM_START", LRB_N(EXAM_F), EXAM_F},
    {LRB_EXAM_END, "EXAM_END", LRB_N(EXAM_F), EXAM_F},
    {LRB_RESULT, "RESULT", LRB_N(RESULT_F), RESULT_F},
    {LRB_EXAM_SUMMARY, "EXAM_SUMMARY", LRB_N(SUMMARY_F), SUMMARY_F},
    {LRB_ALERT, "ALERT", LRB_N(ALERT_F), ALERT_F},
    {LRB_ACK, "ACK", LRB_N(ACK_F), ACK_F},
    {LRB_NACK, "NACK", LRB_N(NACK_F), NACK_F},
};

uint32_t lrb_crc32(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xFFFFFFFFu;
}

size_t lrb_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t pos = 0, o = 0;
    for (;;) {
        size_t run = 0;
        while (pos + run < len && run < 254u && in[pos + run] != 0) {
            run++;
        }
        if (o + 1u + run > cap) {
            return 0;
        }
        out[o++] = (uint8_t)(run + 1u);
        memcpy(out + o, in + pos, run);
        o += run;
        pos += run;
        if (run < 254u && pos < len) {
            pos++; /* the zero this block stands for */
            continue;
        }
        if (run == 254u && pos < len) {
            continue;
        }
        return o;
    }
}

int lrb_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pos = 0, o = 0, i;
    while (pos < len) {
        size_t code = in[pos];
        size_t end = pos + code;
        if (code == 0 || end > len) {
            return -1;
        }
        for (i = pos + 1u; i < end; i++) {
            if (in[i] == 0 || o >= cap) {
                return -1;
            }
            out[o++] = in[i];
        }
        pos = end;
        if (code != 0xFFu && pos < len) {
            if (o >= cap) {
                return -1;
            }
            out[o++] = 0;
        }
    }
    *out_len = o;
    return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    unsigned i;
    for (i = 0; i < bytes; i++) {
        p[i] = (uint8_t)(v >> (8u * i));
    }
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < bytes; i++) {
        v |= (uint64_t)p[i] << (8u * i);
    }
    return v;
}

size_t lrb_encode(uint8_t type, uint16_t seq, uint8_t flags, const uint8_t *payload, size_t len,
                  uint8_t *out, size_t cap)
{
    uint8_t raw[LRB_MAX_FRAME];
    size_t n;
    if (len > LRB_MAX_PAYLOAD) {
        return 0;
    }
    raw[0] = (uint8_t)LRB_PROTOCOL_VERSION;
    raw[1] = type;
    put_le(raw + 2, seq, 2);
    raw[4] = flags;
    put_le(raw + 5, (uint64_t)len, 2);
    if (len > 0) {
        memcpy(raw + LRB_HEADER_SIZE, payload, len);
    }
    put_le(raw + LRB_HEADER_SIZE + len, lrb_crc32(raw, LRB_HEADER_SIZE + len), 4);
    n = lrb_cobs_encode(raw, LRB_HEADER_SIZE + len + LRB_CRC_SIZE, out, cap);
    if (n == 0 || n + 1u > cap) {
        return 0;
    }
    out[n] = 0;
    return n + 1u;
}

lrb_status lrb_decode_segment(const uint8_t *seg, size_t len, uint8_t *work, lrb_frame *frame)
{
    size_t raw_len = 0, body;
    int size;
    if (len > LRB_MAX_ENCODED) {
        return LRB_ERR_OVERFLOW;
    }
    if (lrb_cobs_decode(seg, len, work, LRB_MAX_ENCODED, &raw_len) != 0) {
        return LRB_ERR_COBS;
    }
    if (raw_len < LRB_HEADER_SIZE + LRB_CRC_SIZE) {
        return LRB_ERR_SHORT;
    }
    body = raw_len - LRB_CRC_SIZE;
    if (lrb_crc32(work, body) != (uint32_t)get_le(work + body, 4)) {
        return LRB_ERR_CRC;
    }
    frame->version = work[0];
    frame->type = work[1];
    frame->seq = (uint16_t)get_le(work + 2, 2);
    frame->flags = work[4];
    frame->length = (uint16_t)get_le(work + 5, 2);
    frame->payload = work + LRB_HEADER_SIZE;
    if (frame->version != LRB_PROTOCOL_VERSION) {
        return LRB_ERR_VERSION;
    }
    if ((size_t)frame->length != body - LRB_HEADER_SIZE) {
        return LRB_ERR_LENGTH;
    }
    size = lrb_payload_size(frame->type);
    if (size < 0) {
        return LRB_ERR_UNKNOWN_TYPE;
    }
    return (size_t)size == frame->length ? LRB_OK : LRB_ERR_PAYLOAD_SIZE;
}

void lrb_decoder_init(lrb_decoder *dec)
{
    dec->len = 0;
    dec->overflow = 0;
}

lrb_status lrb_decoder_feed(lrb_decoder *dec, uint8_t byte, lrb_frame *frame)
{
    lrb_status status;
    if (byte != 0) {
        if (dec->overflow) {
            return LRB_NEED_MORE;
        }
        if (dec->len >= LRB_MAX_ENCODED) {
            dec->overflow = 1;
            dec->len = 0;
            return LRB_NEED_MORE;
        }
        dec->buf[dec->len++] = byte;
        return LRB_NEED_MORE;
    }
    if (dec->overflow) {
        status = LRB_ERR_OVERFLOW;
    } else if (dec->len == 0) {
        status = LRB_NEED_MORE; /* empty segment: ignored */
    } else {
        status = lrb_decode_segment(dec->buf, dec->len, dec->frame, frame);
    }
    lrb_decoder_init(dec);
    return status;
}

const char *lrb_status_name(lrb_status status)
{
    static const char *const names[] = {"ok", "overflow", "cobs", "short", "crc", "version",
                                        "length", "unknown_type", "payload_size", "need_more"};
    return (unsigned)status < sizeof(names) / sizeof(names[0]) ? names[status] : "?";
}

static const lrb_class_entry CLASSES[] = {
    {LRB_CLASS_NORMAL, "normal"}, {LRB_CLASS_STEATOSIS, "steatosis"}, {LRB_CLASS_FIBROSIS, "fibrosis"},
    {LRB_CLASS_FOCAL_LESION, "focal_lesion"}, {LRB_CLASS_NOT_LIVER, "not_liver"}, {LRB_CLASS_UNCERTAIN, "uncertain"}};

const lrb_class_entry *lrb_classes(size_t *count)
{
    *count = sizeof(CLASSES) / sizeof(CLASSES[0]);
    return CLASSES;
}

const char *lrb_class_name(uint8_t code)
{
    size_t i;
    for (i = 0; i < sizeof(CLASSES) / sizeof(CLASSES[0]); i++) {
        if (CLASSES[i].code == code) {
            return CLASSES[i].name;
        }
    }
    return NULL;
}

const lrb_message_schema *lrb_schema(size_t *count)
{
    *count = sizeof(SCHEMA) / sizeof(SCHEMA[0]);
    return SCHEMA;
}

const lrb_message_schema *lrb_find_schema(uint8_t type)
{
    size_t i;
    for (i = 0; i < sizeof(SCHEMA) / sizeof(SCHEMA[0]); i++) {
        if (SCHEMA[i].type == type) {
            return &SCHEMA[i];
        }
    }
    return NULL;
}

int lrb_payload_size(uint8_t type)
{
    const lrb_message_schema *m = lrb_find_schema(type);
    int size = 0;
    uint8_t i;
    if (m == NULL) {
        return -1;
    }
    for (i = 0; i < m->nfields; i++) {
        size += m->fields[i].bytes;
    }
    return size;
}

int lrb_unpack_fields(uint8_t type, const uint8_t *payload, size_t len, uint64_t *out, size_t cap)
{
    const lrb_message_schema *m = lrb_find_schema(type);
    size_t off = 0;
    uint8_t i;
    if (m == NULL || lrb_payload_size(type) != (int)len || m->nfields > cap) {
        return -1;
    }
    for (i = 0; i < m->nfields; i++) {
        out[i] = get_le(payload + off, m->fields[i].bytes);
        off += m->fields[i].bytes;
    }
    return m->nfields;
}

int lrb_pack_fields(uint8_t type, const uint64_t *values, size_t n, uint8_t *out, size_t cap)
{
    const lrb_message_schema *m = lrb_find_schema(type);
    int size = lrb_payload_size(type);
    size_t off = 0;
    uint8_t i;
    if (m == NULL || n != m->nfields || size < 0 || (size_t)size > cap) {
        return -1;
    }
    for (i = 0; i < m->nfields; i++) {
        put_le(out + off, values[i], m->fields[i].bytes);
        off += m->fields[i].bytes;
    }
    return size;
}

static int lrb_values_ok(const lrb_frame *f)
{
    uint64_t v[8];
    if (lrb_unpack_fields(f->type, f->payload, f->length, v, 8) < 0) {
        return 0;
    }
    switch (f->type) {
    case LRB_RESULT: /* frame_seq, timestamp_ns, class_index, confidence_e4, quality_flags */
        return lrb_class_name((uint8_t)v[2]) != NULL && v[3] <= 10000u;
    case LRB_EXAM_SUMMARY: /* exam_id, frames, uncertain_frames, class_index, confidence_e4, quality_flags */
        return v[2] <= v[1] && lrb_class_name((uint8_t)v[3]) != NULL && v[4] <= 10000u;
    case LRB_ALERT: /* code, severity, detail, timestamp_ns */
        return v[1] <= 2u;
    case LRB_PROBE_EVENT: /* kind 1..6, frozen 0/1, ... */
        return v[0] >= 1u && v[0] <= 6u && v[1] <= 1u;
    default:
        return 1;
    }
}

lrb_verdict lrb_receive_verdict(lrb_role role, const lrb_frame *f)
{
    int to_host = f->type == LRB_PROBE_EVENT || f->type == LRB_EXAM_START || f->type == LRB_EXAM_END;
    int to_mcu = f->type == LRB_RESULT || f->type == LRB_EXAM_SUMMARY || f->type == LRB_ALERT;
    if (!to_host && !to_mcu) {
        return LRB_V_CONTROL;
    }
    if ((role == LRB_ROLE_HOST && !to_host) || (role == LRB_ROLE_MCU && !to_mcu)) {
        return LRB_V_NACK_UNKNOWN_TYPE;
    }
    if (!lrb_values_ok(f)) {
        return LRB_V_NACK_BAD_PAYLOAD;
    }
    if (f->type == LRB_EXAM_START || f->type == LRB_EXAM_END || f->type == LRB_EXAM_SUMMARY) {
        return LRB_V_ACK;
    }
    return LRB_V_DELIVER;
}

const char *lrb_verdict_name(lrb_verdict verdict)
{
    static const char *const names[] = {"control", "deliver", "ack", "nack_unknown_type", "nack_bad_payload"};
    return (unsigned)verdict < sizeof(names) / sizeof(names[0]) ? names[verdict] : "?";
}
