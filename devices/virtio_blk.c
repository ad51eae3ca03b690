/* virtio-blk back-end. See virtio_blk.h. */
#define _GNU_SOURCE             /* F_OFD_SETLK, preadv/pwritev */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio_blk.h"

#define HDR_BYTES   16          /* le32 type, le32 reserved, le64 sector */
#define CFG_BYTES   36          /* up to num_queues; the rest reads 0 */

struct virtio_blk {
    int fd;
    bool readonly;
    uint64_t capacity;          /* in 512-byte sectors */
    char serial[VIRTIO_BLK_ID_BYTES];
    uint8_t config[CFG_BYTES];
    struct iovec iov[VIRTIO_BLK_QUEUE_MAX];
};

static uint64_t blk_features(void *dev)
{
    struct virtio_blk *b = dev;

    return VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
           VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
           VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
           (b->readonly ? VIRTIO_BIT(VIRTIO_BLK_F_RO) : 0);
}

static uint64_t blk_config_read(void *dev, unsigned off, unsigned size)
{
    struct virtio_blk *b = dev;

    return virtio_config_bytes(b->config, sizeof(b->config), off, size);
}

/* Whole transfer or an error; the iovec array is consumed. */
static int do_io(int fd, struct iovec *iov, unsigned n, off_t off, bool write)
{
    while (n) {
        ssize_t r = write ? pwritev(fd, iov, (int)n, off)
                          : preadv(fd, iov, (int)n, off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO;        /* the image shrank under us */
        off += r;
        while (n && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return 0;
}

/* Data transfer of len bytes at sector; data at byte off of the readable
 * (write) or writable (read) part of the chain. */
static uint8_t blk_rw(struct virtio_blk *b, const struct virtq_elem *e,
                      bool write, uint64_t off, uint64_t len, uint64_t sector)
{
    unsigned n;

    if (len % VIRTIO_BLK_SECTOR || sector > b->capacity ||
        len / VIRTIO_BLK_SECTOR > b->capacity - sector)
        return VIRTIO_BLK_S_IOERR;
    if (write && b->readonly)
        return VIRTIO_BLK_S_IOERR;
    n = virtq_iovec(e, !write, off, len, b->iov, VIRTIO_BLK_QUEUE_MAX);
    if (do_io(b->fd, b->iov, n, (off_t)(sector * VIRTIO_BLK_SECTOR), write))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

static void blk_request(struct virtio_blk *b, struct virtio_mmio *vm,
                        struct virtqueue *vq, const struct virtq_elem *e)
{
    uint8_t hdr[HDR_BYTES], status;
    uint64_t sector, data_in, moved_out = 0, moved_in = 0, v64;
    uint32_t type;

    if (e->out_len < HDR_BYTES || e->in_len < 1) {
        virtq_fail(vq, "request without header or status byte");
        return;
    }
    virtq_read(e, 0, hdr, sizeof(hdr));
    memcpy(&type, hdr, 4);
    memcpy(&v64, hdr + 8, 8);
    type = le32toh(type);
    sector = le64toh(v64);
    data_in = e->in_len - 1;    /* everything before the status byte */

    switch (type) {
    case VIRTIO_BLK_T_IN:
        status = blk_rw(b, e, false, 0, data_in, sector);
        if (status == VIRTIO_BLK_S_OK)
            moved_in = data_in;
        break;
    case VIRTIO_BLK_T_OUT:
        status = blk_rw(b, e, true, HDR_BYTES, e->out_len - HDR_BYTES, sector);
        if (status == VIRTIO_BLK_S_OK)
            moved_out = e->out_len - HDR_BYTES;
        break;
    case VIRTIO_BLK_T_FLUSH:
        status = fsync(b->fd) == 0 || b->readonly ? VIRTIO_BLK_S_OK
                                                  : VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID:
        moved_in = data_in < VIRTIO_BLK_ID_BYTES ? data_in : VIRTIO_BLK_ID_BYTES;
        virtq_write(e, 0, b->serial, (size_t)moved_in);
        status = VIRTIO_BLK_S_OK;
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    /* Last, so the driver sees a status only once the data is in place. */
    virtq_write(e, data_in, &status, 1);
    virtq_push(vq, e, (uint32_t)(moved_in + 1));
    virtio_mmio_account(vm, moved_out, moved_in, status != VIRTIO_BLK_S_OK);
}

static void blk_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq,
                       unsigned idx)
{
    struct virtq_elem *e;
    unsigned n;

    (void)idx;
    /* At most a queue's worth a kick: chains added meanwhile come with
     * their own kick, and a guest refilling forever cannot pin the vCPU
     * inside this MMIO write. */
    for (n = 0; n < vq->num && virtq_pop(vq, &e) > 0; n++)
        blk_request(dev, vm, vq, e);
    virtio_mmio_notify_used(vm, vq);
}

static void blk_destroy(void *dev)
{
    struct virtio_blk *b = dev;

    if (!b)
        return;
    close(b->fd);
    free(b);
}

static const struct virtio_dev_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max = VIRTIO_BLK_QUEUE_MAX,
    .features = blk_features,
    .config_read = blk_config_read,
    .queue_notify = blk_notify,
    .destroy = blk_destroy,
};

static void put_le32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static int open_image(const char *path, bool readonly, uint64_t *bytes,
                      char *err, size_t errlen)
{
    struct flock lk = { .l_type = readonly ? F_RDLCK : F_WRLCK,
                        .l_whence = SEEK_SET };
    struct stat st;
    off_t end;
    int fd, e;

    fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "drive '%s': %s%s", path, strerror(e),
                 e == EACCES || e == EROFS ?
                 " (add readonly=on or fix its permissions)" : "");
        return -e;
    }
    if (fstat(fd, &st) < 0)
        st.st_mode = 0;
    if (!(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        snprintf(err, errlen, "drive '%s': not a raw image file or block "
                 "device", path);
        close(fd);
        return -e;
    }
    if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
        e = errno == EACCES ? EAGAIN : errno;
        snprintf(err, errlen, "drive '%s': in use by another process (it is "
                 "locked); stop it or use another image", path);
        close(fd);
        return -e;
    }
    end = lseek(fd, 0, SEEK_END);   /* also sizes block devices */
    if (end < 0) {
        e = errno;
        snprintf(err, errlen, "drive '%s': cannot get its size: %s", path,
                 strerror(e));
        close(fd);
        return -e;
    }
    *bytes = (uint64_t)end;
    return fd;
}

int virtio_blk_new(const char *path, int readonly, struct virtio_backend *be,
                   char *err, size_t errlen)
{
    struct virtio_blk *b;
    const char *base;
    uint64_t bytes = 0, cap;
    int fd;

    if (!err || !errlen) {
        static char sink[1];

        err = sink;
        errlen = sizeof(sink);
    }
    if (!path || !be) {
        snprintf(err, errlen, "drive: no file given");
        return -EINVAL;
    }
    fd = open_image(path, readonly, &bytes, err, errlen);
    if (fd < 0)
        return fd;
    b = calloc(1, sizeof(*b));
    if (!b) {
        close(fd);
        snprintf(err, errlen, "drive '%s': out of memory", path);
        return -ENOMEM;
    }
    b->fd = fd;
    b->readonly = readonly;
    b->capacity = bytes / VIRTIO_BLK_SECTOR;   /* a partial tail is unused */
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* Not NUL-terminated when 20 long: GET_ID is a zero-padded field. */
    memcpy(b->serial, base, strnlen(base, sizeof(b->serial)));
    cap = htole64(b->capacity);
    memcpy(b->config + VIRTIO_BLK_CFG_CAPACITY, &cap, 8);
    put_le32(b->config + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_QUEUE_MAX - 2);
    put_le32(b->config + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR);
    be->ops = &blk_ops;
    be->dev = b;
    return 0;
}
