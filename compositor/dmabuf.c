/*
 * zwp_linux_dmabuf_v1: how a client (a VM's, through its proxy) hands the
 * compositor GPU buffers without a copy.
 *
 * This is Prism's own implementation, not wlroots'. wlroots 0.15 offers the
 * protocol only where the renderer imports dmabufs through EGL, so a host
 * without a GPU would show no dmabuf window at all; and it takes whatever
 * format and modifier a client names, leaving the check to the importer,
 * checks the extent of plane 0 only, and skips even that when the fd cannot
 * tell its size. A guest is hostile: here every parameter is checked before
 * anything uses it, the same way on every renderer, and a bad one is a
 * protocol error for that client alone.
 *
 * On GLES2, buffers whose planes are real dmabufs are imported by EGL (the
 * renderer does it through wlr_buffer_get_dmabuf). On pixman, and for
 * memfds anywhere, LINEAR buffers are mapped and read in place, bracketed by
 * DMA_BUF_IOCTL_SYNC when the fd is a real dmabuf.
 */
#define _GNU_SOURCE // memfd_create, F_ADD_SEALS
#include <assert.h>
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/dma-buf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wlr/render/drm_format_set.h>
#include <wlr/render/gles2.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/util/log.h>
#include "dmabuf.h"
#include "fdcheck.h"
#include "linux-dmabuf-unstable-v1-protocol.h"
#include "server.h"
#include "vm.h"

#define DMABUF_VERSION 4
/* Larger than any output Prism drives or any window it shows
 * (max-window-size); beyond it a buffer is refused before any arithmetic. */
#define DMABUF_MAX_DIMENSION 16384
/*
 * The widest row of the widest format, 8 bytes a pixel, which is already
 * aligned as generously as any GPU aligns. Beyond it a stride is of no use
 * and dangerous: pixman and GL take strides as int, and a stride of 2^31
 * turns negative there.
 */
#define DMABUF_MAX_STRIDE (DMABUF_MAX_DIMENSION * 8)


/*
 * The formats Prism knows the memory layout of. Only these are advertised:
 * the extent checks below need each plane's bytes per pixel and
 * subsampling, and a format Prism cannot check is a format it does not take.
 */
struct format_info {
	uint32_t format;
	uint8_t planes;
	uint8_t cpp[3]; // bytes per pixel of each plane
	uint8_t hsub, vsub; // subsampling of planes after the first
	bool pairs; // plane 0 holds pixels in pairs (packed 4:2:2)
};

static const struct format_info known_formats[] = {
	{ DRM_FORMAT_ARGB8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_XRGB8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_ABGR8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_XBGR8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_RGBA8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_RGBX8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_BGRA8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_BGRX8888, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_ARGB2101010, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_XRGB2101010, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_ABGR2101010, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_XBGR2101010, 1, { 4 }, 1, 1 },
	{ DRM_FORMAT_RGB565, 1, { 2 }, 1, 1 },
	{ DRM_FORMAT_BGR565, 1, { 2 }, 1, 1 },
	{ DRM_FORMAT_RGB888, 1, { 3 }, 1, 1 },
	{ DRM_FORMAT_BGR888, 1, { 3 }, 1, 1 },
	{ DRM_FORMAT_ABGR16161616F, 1, { 8 }, 1, 1 },
	{ DRM_FORMAT_XBGR16161616F, 1, { 8 }, 1, 1 },
	{ DRM_FORMAT_ABGR16161616, 1, { 8 }, 1, 1 },
	{ DRM_FORMAT_YUYV, 1, { 2 }, 1, 1, true },
	{ DRM_FORMAT_UYVY, 1, { 2 }, 1, 1, true },
	{ DRM_FORMAT_NV12, 2, { 1, 2 }, 2, 2 },
	{ DRM_FORMAT_NV21, 2, { 1, 2 }, 2, 2 },
	{ DRM_FORMAT_P010, 2, { 2, 4 }, 2, 2 },
	{ DRM_FORMAT_YUV420, 3, { 1, 1, 1 }, 2, 2 },
	{ DRM_FORMAT_YVU420, 3, { 1, 1, 1 }, 2, 2 },
};

static const struct format_info *format_info(uint32_t format) {
	for (size_t i = 0; i < sizeof(known_formats) / sizeof(known_formats[0]);
			i++) {
		if (known_formats[i].format == format) {
			return &known_formats[i];
		}
	}
	return NULL;
}

/* Bytes in one row of plane i of a LINEAR buffer width pixels wide, and
 * its number of rows; planes beyond the format's (metadata of other
 * layouts) count as one byte a row. */
static uint64_t plane_row_bytes(const struct format_info *info, int i,
		uint64_t width) {
	if (i >= info->planes) {
		return 1;
	}
	if (i == 0) {
		return info->pairs ? (width + 1) / 2 * 2 * info->cpp[0] :
			width * info->cpp[0];
	}
	return (width + info->hsub - 1) / info->hsub * info->cpp[i];
}

static uint64_t plane_rows(const struct format_info *info, int i,
		uint64_t height) {
	return i > 0 && i < info->planes ?
		(height + info->vsub - 1) / info->vsub : height;
}

struct pair {
	uint32_t format;
	uint32_t pad; // the feedback format table's layout
	uint64_t modifier;
};

/*
 * The dmabuf wl_buffers a VM's clients hold, each with up to four fds open
 * in prism for as long as it lives: counted by VM name (a VM removed and
 * added again is the same VM), so that no VM can use up prism's fds.
 */
struct quota {
	struct wl_list link; // prism_dmabuf::quotas
	char *vm;
	uint32_t buffers;
};

struct prism_dmabuf {
	struct prism_server *server;
	struct wl_list quotas;
	struct wl_global *global;
	uint32_t version;
	bool gpu_import;

	struct pair *pairs;
	size_t n_pairs;

	/* Version 4: the sealed format table every client maps, and the
	 * device it is for. */
	int table_fd;
	size_t table_size;
	dev_t main_device;
};

/* Buffers may outlive the global (a texture can hold one past shutdown):
 * the counters they touch are not in it. */
static struct {
	uint64_t alive, created, refused;
} counters;

struct params {
	struct prism_dmabuf *dmabuf;
	struct wlr_dmabuf_attributes attribs; // fds owned until a buffer takes them
	bool is_dmabuf[WLR_DMABUF_MAX_PLANES];
	uint64_t fd_size[WLR_DMABUF_MAX_PLANES];
	bool has_modifier;
	bool used;
};

struct dmabuf_buffer {
	struct wlr_buffer base;
	struct wl_resource *resource; // NULL once the client destroyed it
	struct wlr_dmabuf_attributes attribs; // owns the fds
	bool all_dmabuf; // every plane is a real dmabuf: EGL can import it
	bool plane0_dmabuf;
	/* For LINEAR single-plane buffers: the part of plane 0's fd the
	 * buffer covers, mapped, and where its first row starts in it. */
	void *map;
	size_t map_size;
	uint8_t *data;
	struct quota *quota; // NULL for host clients
	struct wl_listener release;
};

static struct quota *quota_get(struct prism_dmabuf *dmabuf, const char *vm) {
	struct quota *quota;
	wl_list_for_each(quota, &dmabuf->quotas, link) {
		if (strcmp(quota->vm, vm) == 0) {
			return quota;
		}
	}
	quota = calloc(1, sizeof(*quota));
	if (quota == NULL || (quota->vm = strdup(vm)) == NULL) {
		free(quota);
		return NULL;
	}
	wl_list_insert(&dmabuf->quotas, &quota->link);
	return quota;
}

static void quota_drop_if_unused(struct quota *quota) {
	if (quota != NULL && quota->buffers == 0) {
		wl_list_remove(&quota->link);
		free(quota->vm);
		free(quota);
	}
}

/* --- Buffers ------------------------------------------------------------ */

static const struct wlr_buffer_impl buffer_impl;

static struct dmabuf_buffer *buffer_from_wlr(struct wlr_buffer *wlr_buffer) {
	assert(wlr_buffer->impl == &buffer_impl);
	return (struct dmabuf_buffer *)wlr_buffer;
}

static void buffer_destroy(struct wlr_buffer *wlr_buffer) {
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	if (buffer->resource != NULL) {
		wl_resource_set_user_data(buffer->resource, NULL);
	}
	if (buffer->map != NULL) {
		munmap(buffer->map, buffer->map_size);
	}
	wlr_dmabuf_attributes_finish(&buffer->attribs);
	wl_list_remove(&buffer->release.link);
	counters.alive--;
	free(buffer);
}

static bool buffer_get_dmabuf(struct wlr_buffer *wlr_buffer,
		struct wlr_dmabuf_attributes *attribs) {
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	/* A memfd standing in for a dmabuf is no use to EGL: the renderer
	 * then reads it through the data pointer instead. */
	if (!buffer->all_dmabuf) {
		return false;
	}
	*attribs = buffer->attribs;
	return true;
}

static void dma_buf_sync(struct dmabuf_buffer *buffer, uint64_t flags) {
	if (!buffer->plane0_dmabuf) {
		return;
	}
	struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };
	while (ioctl(buffer->attribs.fd[0], DMA_BUF_IOCTL_SYNC, &sync) != 0) {
		if (errno != EINTR && errno != EAGAIN) {
			wlr_log_errno(WLR_DEBUG, "DMA_BUF_IOCTL_SYNC");
			return;
		}
	}
}

static bool buffer_begin_data_ptr_access(struct wlr_buffer *wlr_buffer,
		uint32_t flags, void **data, uint32_t *format, size_t *stride) {
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	/* The client's memory is read, never written. */
	if (buffer->map == NULL || (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE)) {
		return false;
	}
	dma_buf_sync(buffer, DMA_BUF_SYNC_START);
	*data = buffer->data;
	*format = buffer->attribs.format;
	*stride = buffer->attribs.stride[0];
	return true;
}

static void buffer_end_data_ptr_access(struct wlr_buffer *wlr_buffer) {
	dma_buf_sync(buffer_from_wlr(wlr_buffer), DMA_BUF_SYNC_END);
}

static const struct wlr_buffer_impl buffer_impl = {
	.destroy = buffer_destroy,
	.get_dmabuf = buffer_get_dmabuf,
	.begin_data_ptr_access = buffer_begin_data_ptr_access,
	.end_data_ptr_access = buffer_end_data_ptr_access,
};

static void buffer_handle_release(struct wl_listener *listener, void *data) {
	struct dmabuf_buffer *buffer = wl_container_of(listener, buffer, release);
	if (buffer->resource != NULL) {
		wl_buffer_send_release(buffer->resource);
	}
}

static void wl_buffer_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct wl_buffer_interface wl_buffer_impl = {
	.destroy = wl_buffer_handle_destroy,
};

static void quota_release(struct quota *quota) {
	if (quota != NULL) {
		quota->buffers--;
		quota_drop_if_unused(quota);
	}
}

static void wl_buffer_resource_destroy(struct wl_resource *resource) {
	struct dmabuf_buffer *buffer = wl_resource_get_user_data(resource);
	if (buffer == NULL) {
		return;
	}
	/* The quota counts what the client holds: a texture may keep the
	 * buffer a little longer, but the client can make no more of it. */
	quota_release(buffer->quota);
	buffer->quota = NULL;
	buffer->resource = NULL;
	wlr_buffer_drop(&buffer->base);
}

static bool resource_is_buffer(struct wl_resource *resource) {
	return wl_resource_instance_of(resource, &wl_buffer_interface,
		&wl_buffer_impl);
}

static struct wlr_buffer *buffer_from_resource(struct wl_resource *resource) {
	struct dmabuf_buffer *buffer = wl_resource_get_user_data(resource);
	return buffer != NULL ? &buffer->base : NULL;
}

static const struct wlr_buffer_resource_interface buffer_resource_iface = {
	.name = "prism_dmabuf",
	.is_instance = resource_is_buffer,
	.from_resource = buffer_from_resource,
};

/* --- Parameters ----------------------------------------------------------- */

static const struct zwp_linux_buffer_params_v1_interface params_impl;

static struct params *params_from_resource(struct wl_resource *resource) {
	return wl_resource_get_user_data(resource);
}

/* Every fd added, whatever n_planes says: wlr_dmabuf_attributes_finish
 * would close only the first n_planes, and a client that adds planes and
 * never creates a buffer must not leave a single fd behind. */
static void params_free(struct params *params) {
	for (int i = 0; i < WLR_DMABUF_MAX_PLANES; i++) {
		if (params->attribs.fd[i] >= 0) {
			close(params->attribs.fd[i]);
		}
	}
	free(params);
}

static void params_resource_destroy(struct wl_resource *resource) {
	struct params *params = params_from_resource(resource);
	if (params != NULL) {
		params_free(params);
	}
}

static void params_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

/*
 * A protocol error for the client, one log line naming it and its VM, and
 * the count that prismctl stats shows. libwayland ends the client after
 * the error is flushed: nothing else is affected.
 */
static void refuse(struct wl_resource *resource, uint32_t code,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct wl_resource *resource, uint32_t code,
		const char *fmt, ...) {
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	struct wl_client *client = wl_resource_get_client(resource);
	struct prism_vm *vm = vm_from_client(client);
	wlr_log(WLR_INFO, "dmabuf: %s%s: %s", vm ? "vm=" : "host client",
		vm ? vm_name(vm) : "", reason);
	counters.refused++;
	wl_resource_post_error(resource, code, "%s", reason);
}

static void params_handle_add(struct wl_client *client,
		struct wl_resource *resource, int32_t fd, uint32_t plane,
		uint32_t offset, uint32_t stride, uint32_t modifier_hi,
		uint32_t modifier_lo) {
	struct params *params = params_from_resource(resource);
	if (params == NULL || params->used) {
		close(fd);
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"the parameters were already used to create a buffer");
		return;
	}
	if (plane >= WLR_DMABUF_MAX_PLANES) {
		close(fd);
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
			"plane index %" PRIu32 " is not below %d", plane,
			WLR_DMABUF_MAX_PLANES);
		return;
	}
	if (params->attribs.fd[plane] >= 0) {
		close(fd);
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET,
			"plane %" PRIu32 " is set twice", plane);
		return;
	}
	uint64_t modifier = (uint64_t)modifier_hi << 32 | modifier_lo;
	if (params->has_modifier && modifier != params->attribs.modifier) {
		close(fd);
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
			"plane %" PRIu32 " has modifier 0x%" PRIx64 ", another plane "
			"0x%" PRIx64, plane, modifier, params->attribs.modifier);
		return;
	}
	char reason[160];
	uint64_t size;
	bool is_dmabuf;
	if (!fdcheck_dmabuf_plane(fd, &size, &is_dmabuf, reason, sizeof(reason))) {
		close(fd);
		/* The protocol has no code for an fd of the wrong kind; this one
		 * says what follows from it: no valid wl_buffer. */
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
			"plane %" PRIu32 " fd: %s", plane, reason);
		return;
	}
	params->has_modifier = true;
	params->attribs.modifier = modifier;
	params->attribs.fd[plane] = fd;
	params->attribs.offset[plane] = offset;
	params->attribs.stride[plane] = stride;
	params->is_dmabuf[plane] = is_dmabuf;
	params->fd_size[plane] = size;
}

static bool advertised(const struct prism_dmabuf *dmabuf, uint32_t format,
		uint64_t modifier) {
	for (size_t i = 0; i < dmabuf->n_pairs; i++) {
		if (dmabuf->pairs[i].format == format &&
				dmabuf->pairs[i].modifier == modifier) {
			return true;
		}
	}
	return false;
}

/*
 * Everything about the parameters that can be wrong, in the order a reader
 * would check: what was added, the dimensions, the format, then each
 * plane's extent inside its fd. Returns false after a protocol error.
 */
static bool params_check(struct params *params, struct wl_resource *resource,
		int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	struct wlr_dmabuf_attributes *a = &params->attribs;
	int planes = 0;
	for (int i = 0; i < WLR_DMABUF_MAX_PLANES; i++) {
		if (a->fd[i] >= 0) {
			if (i != planes) {
				refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
					"plane %d is missing", planes);
				return false;
			}
			planes++;
		}
	}
	if (planes == 0) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
			"no plane was added");
		return false;
	}
	uint32_t known_flags = ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT |
		ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_INTERLACED |
		ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_BOTTOM_FIRST;
	if (flags & ~known_flags) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
			"unknown flags 0x%" PRIx32, flags);
		return false;
	}
	if (width < 1 || height < 1 || width > DMABUF_MAX_DIMENSION ||
			height > DMABUF_MAX_DIMENSION) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS,
			"%" PRId32 "x%" PRId32 " is not within 1x1..%dx%d", width,
			height, DMABUF_MAX_DIMENSION, DMABUF_MAX_DIMENSION);
		return false;
	}
	const struct format_info *info = format_info(format);
	if (info == NULL || !advertised(params->dmabuf, format, a->modifier)) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
			"format 0x%08" PRIx32 " with modifier 0x%" PRIx64 " was not "
			"advertised", format, a->modifier);
		return false;
	}
	/* A LINEAR buffer has exactly the format's planes; other layouts may
	 * add planes of their own (compression metadata), which the importer
	 * checks, but never have fewer. */
	if (planes < info->planes ||
			(a->modifier == DRM_FORMAT_MOD_LINEAR && planes != info->planes)) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
			"format 0x%08" PRIx32 " has %d plane%s, not %d", format,
			info->planes, info->planes == 1 ? "" : "s", planes);
		return false;
	}
	for (int i = 0; i < planes; i++) {
		uint64_t row = plane_row_bytes(info, i, (uint64_t)width);
		uint64_t h = plane_rows(info, i, (uint64_t)height);
		uint64_t stride = a->stride[i], offset = a->offset[i];
		/* Rows start on 4-byte boundaries: pixman needs it, and GL reads
		 * rows with its default unpack alignment of 4, past the end of
		 * a buffer whose stride is not a multiple of it. */
		if (stride % 4 != 0 || stride > DMABUF_MAX_STRIDE) {
			refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
				"plane %d: stride %" PRIu64 " is not a multiple of 4 up to "
				"%d", i, stride, DMABUF_MAX_STRIDE);
			return false;
		}
		if (stride < row) {
			refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
				"plane %d: stride %" PRIu64 " is less than a row of %" PRIu64
				" bytes", i, stride, row);
			return false;
		}
		/* All in 64 bits from 32-bit inputs and dimensions capped
		 * above: no sum or product here can overflow. */
		uint64_t end = offset + stride * (h - 1) + row;
		if (end > params->fd_size[i]) {
			refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
				"plane %d: offset %" PRIu64 " + stride %" PRIu64 " x %" PRIu64
				" rows ends at byte %" PRIu64 ", past the fd's %" PRIu64,
				i, offset, stride, h, end, params->fd_size[i]);
			return false;
		}
	}
	return true;
}

static void params_create_common(struct wl_resource *resource, uint32_t id,
		int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	struct params *params = params_from_resource(resource);
	if (params == NULL || params->used) {
		refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"the parameters were already used to create a buffer");
		return;
	}
	params->used = true;
	if (!params_check(params, resource, width, height, format, flags)) {
		return;
	}
	struct prism_dmabuf *dmabuf = params->dmabuf;
	struct wl_client *client = wl_resource_get_client(resource);
	struct wlr_dmabuf_attributes *a = &params->attribs;
	struct prism_vm *vm = vm_from_client(client);
	struct quota *quota = NULL;
	if (vm != NULL) {
		quota = quota_get(dmabuf, vm_name(vm));
		if (quota == NULL) {
			wl_client_post_no_memory(client);
			return;
		}
		if (quota->buffers >= (uint32_t)vm->config->max_dmabuf_buffers) {
			refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
				"the VM holds %" PRIu32 " dmabuf buffers, its limit "
				"(max-dmabuf-buffers)", quota->buffers);
			quota_drop_if_unused(quota);
			return;
		}
	}
	a->width = width;
	a->height = height;
	a->format = format;
	a->n_planes = 0;
	while (a->n_planes < WLR_DMABUF_MAX_PLANES && a->fd[a->n_planes] >= 0) {
		a->n_planes++;
	}

	bool ok = flags == 0; // no renderer here draws inverted or interlaced
	bool all_dmabuf = true;
	for (int i = 0; i < a->n_planes; i++) {
		all_dmabuf = all_dmabuf && params->is_dmabuf[i];
	}
	/* What the renderer will need: EGL for real dmabufs on GLES2, a
	 * mapping of a LINEAR single-plane buffer otherwise. Try it now, so
	 * that a buffer that cannot be shown fails here and not at commit. */
	void *map = NULL;
	size_t map_size = 0;
	uint8_t *data = NULL;
	if (ok && dmabuf->gpu_import && all_dmabuf) {
		struct wlr_texture *texture = wlr_texture_from_dmabuf(
			dmabuf->server->renderer, a);
		ok = texture != NULL;
		if (texture != NULL) {
			wlr_texture_destroy(texture);
		}
	} else if (ok) {
		ok = a->n_planes == 1 && a->modifier == DRM_FORMAT_MOD_LINEAR;
		if (ok) {
			/* Only the rows of the buffer, checked above to lie in the
			 * fd: a client's huge sparse memfd costs no address space. */
			uint64_t row = plane_row_bytes(format_info(format), 0,
				(uint64_t)width);
			uint64_t end = a->offset[0] + (uint64_t)a->stride[0] *
				(uint64_t)(height - 1) + row;
			uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
			uint64_t start = a->offset[0] / page * page;
			map_size = (size_t)(end - start);
			map = mmap(NULL, map_size, PROT_READ, MAP_SHARED, a->fd[0],
				(off_t)start);
			if (map == MAP_FAILED) {
				wlr_log_errno(WLR_INFO, "dmabuf: cannot map a buffer");
				map = NULL;
				ok = false;
			} else {
				data = (uint8_t *)map + (a->offset[0] - start);
			}
		}
	}

	struct dmabuf_buffer *buffer = NULL;
	if (ok) {
		buffer = calloc(1, sizeof(*buffer));
	}
	if (buffer != NULL) {
		buffer->resource = wl_resource_create(client, &wl_buffer_interface,
			1, id);
	}
	if (buffer == NULL || buffer->resource == NULL) {
		if (map != NULL) {
			munmap(map, map_size);
		}
		if (ok) {
			free(buffer);
			quota_drop_if_unused(quota);
			wl_client_post_no_memory(client);
			return;
		}
		quota_drop_if_unused(quota);
		/* The import failed for a reason the client could not check
		 * (flags, a layout the GPU cannot read). create may say so with
		 * failed; for create_immed the protocol leaves it to us, and a
		 * buffer that cannot be shown is an error. */
		if (id == 0) {
			zwp_linux_buffer_params_v1_send_failed(resource);
		} else {
			refuse(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
				"the buffer cannot be imported");
		}
		return;
	}
	wlr_buffer_init(&buffer->base, &buffer_impl, width, height);
	buffer->attribs = *a;
	for (int i = 0; i < WLR_DMABUF_MAX_PLANES; i++) {
		a->fd[i] = -1; // the buffer owns them now
	}
	buffer->all_dmabuf = all_dmabuf;
	buffer->plane0_dmabuf = params->is_dmabuf[0];
	buffer->map = map;
	buffer->map_size = map_size;
	buffer->data = data;
	if (quota != NULL) {
		quota->buffers++;
		buffer->quota = quota;
	}
	buffer->release.notify = buffer_handle_release;
	wl_signal_add(&buffer->base.events.release, &buffer->release);
	wl_resource_set_implementation(buffer->resource, &wl_buffer_impl, buffer,
		wl_buffer_resource_destroy);
	counters.alive++;
	counters.created++;

	struct stat st;
	if (fstat(buffer->attribs.fd[0], &st) == 0) {
		/* What the tests read to see that the very file the guest sent
		 * arrived, through the proxy, without a copy. */
		wlr_log(WLR_DEBUG, "dmabuf: %s%s: buffer %" PRId32 "x%" PRId32
			" format 0x%08" PRIx32 " modifier 0x%" PRIx64 " plane 0 file "
			"%" PRIu64 ":%" PRIu64 " (%s)", vm ? "vm=" : "host client",
			vm ? vm_name(vm) : "", width, height, format,
			buffer->attribs.modifier, (uint64_t)st.st_dev,
			(uint64_t)st.st_ino, all_dmabuf ? "dmabuf" : "memfd");
	}
	if (id == 0) {
		zwp_linux_buffer_params_v1_send_created(resource, buffer->resource);
	}
}

static void params_handle_create(struct wl_client *client,
		struct wl_resource *resource, int32_t width, int32_t height,
		uint32_t format, uint32_t flags) {
	params_create_common(resource, 0, width, height, format, flags);
}

static void params_handle_create_immed(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t width,
		int32_t height, uint32_t format, uint32_t flags) {
	params_create_common(resource, id, width, height, format, flags);
}

static const struct zwp_linux_buffer_params_v1_interface params_impl = {
	.destroy = params_handle_destroy,
	.add = params_handle_add,
	.create = params_handle_create,
	.create_immed = params_handle_create_immed,
};

/* --- The global ----------------------------------------------------------- */

static void feedback_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct zwp_linux_dmabuf_feedback_v1_interface feedback_impl = {
	.destroy = feedback_handle_destroy,
};

static void send_feedback(struct prism_dmabuf *dmabuf,
		struct wl_resource *resource) {
	struct wl_array device = {
		.size = sizeof(dmabuf->main_device),
		.data = &dmabuf->main_device,
	};
	zwp_linux_dmabuf_feedback_v1_send_main_device(resource, &device);
	zwp_linux_dmabuf_feedback_v1_send_format_table(resource, dmabuf->table_fd,
		(uint32_t)dmabuf->table_size);
	/* One tranche, everything, for the device that composes: Prism does
	 * not scan client buffers out directly. */
	zwp_linux_dmabuf_feedback_v1_send_tranche_target_device(resource,
		&device);
	zwp_linux_dmabuf_feedback_v1_send_tranche_flags(resource, 0);
	struct wl_array indices;
	wl_array_init(&indices);
	for (size_t i = 0; i < dmabuf->n_pairs; i++) {
		uint16_t *index = wl_array_add(&indices, sizeof(*index));
		if (index == NULL) {
			wl_array_release(&indices);
			wl_resource_post_no_memory(resource);
			return;
		}
		*index = (uint16_t)i;
	}
	zwp_linux_dmabuf_feedback_v1_send_tranche_formats(resource, &indices);
	wl_array_release(&indices);
	zwp_linux_dmabuf_feedback_v1_send_tranche_done(resource);
	zwp_linux_dmabuf_feedback_v1_send_done(resource);
}

static void create_feedback(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_dmabuf *dmabuf = wl_resource_get_user_data(resource);
	struct wl_resource *feedback = wl_resource_create(client,
		&zwp_linux_dmabuf_feedback_v1_interface,
		wl_resource_get_version(resource), id);
	if (feedback == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(feedback, &feedback_impl, NULL, NULL);
	send_feedback(dmabuf, feedback);
}

static void dmabuf_handle_get_default_feedback(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	create_feedback(client, resource, id);
}

static void dmabuf_handle_get_surface_feedback(struct wl_client *client,
		struct wl_resource *resource, uint32_t id,
		struct wl_resource *surface) {
	create_feedback(client, resource, id);
}

static void dmabuf_handle_create_params(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct prism_dmabuf *dmabuf = wl_resource_get_user_data(resource);
	struct params *params = calloc(1, sizeof(*params));
	struct wl_resource *params_resource = wl_resource_create(client,
		&zwp_linux_buffer_params_v1_interface,
		wl_resource_get_version(resource), id);
	if (params == NULL || params_resource == NULL) {
		free(params);
		if (params_resource != NULL) {
			wl_resource_destroy(params_resource);
		}
		wl_client_post_no_memory(client);
		return;
	}
	params->dmabuf = dmabuf;
	for (int i = 0; i < WLR_DMABUF_MAX_PLANES; i++) {
		params->attribs.fd[i] = -1;
	}
	wl_resource_set_implementation(params_resource, &params_impl, params,
		params_resource_destroy);
}

static void dmabuf_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct zwp_linux_dmabuf_v1_interface dmabuf_impl = {
	.destroy = dmabuf_handle_destroy,
	.create_params = dmabuf_handle_create_params,
	.get_default_feedback = dmabuf_handle_get_default_feedback,
	.get_surface_feedback = dmabuf_handle_get_surface_feedback,
};

static void dmabuf_bind(struct wl_client *client, void *data,
		uint32_t version, uint32_t id) {
	struct prism_dmabuf *dmabuf = data;
	struct wl_resource *resource = wl_resource_create(client,
		&zwp_linux_dmabuf_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &dmabuf_impl, dmabuf, NULL);
	if (version >= ZWP_LINUX_DMABUF_V1_GET_DEFAULT_FEEDBACK_SINCE_VERSION) {
		return; // formats come with the feedback
	}
	for (size_t i = 0; i < dmabuf->n_pairs; i++) {
		const struct pair *p = &dmabuf->pairs[i];
		bool first = true;
		for (size_t j = 0; j < i; j++) {
			first = first && dmabuf->pairs[j].format != p->format;
		}
		if (first) {
			zwp_linux_dmabuf_v1_send_format(resource, p->format);
		}
		if (version >= ZWP_LINUX_DMABUF_V1_MODIFIER_SINCE_VERSION) {
			zwp_linux_dmabuf_v1_send_modifier(resource, p->format,
				(uint32_t)(p->modifier >> 32), (uint32_t)p->modifier);
		}
	}
}

static bool add_pair(struct prism_dmabuf *dmabuf, uint32_t format,
		uint64_t modifier) {
	if (format_info(format) == NULL || advertised(dmabuf, format, modifier)) {
		return true;
	}
	/* The feedback's indices are 16 bits. */
	if (dmabuf->n_pairs >= UINT16_MAX) {
		return true;
	}
	struct pair *pairs = realloc(dmabuf->pairs,
		(dmabuf->n_pairs + 1) * sizeof(*pairs));
	if (pairs == NULL) {
		return false;
	}
	dmabuf->pairs = pairs;
	pairs[dmabuf->n_pairs++] = (struct pair){ format, 0, modifier };
	return true;
}

/* The format table of version 4: one sealed memfd, shared read-only by
 * every client, which no one can change once it is made. */
static bool make_table(struct prism_dmabuf *dmabuf) {
	size_t size = dmabuf->n_pairs * sizeof(struct pair);
	int fd = memfd_create("prism-dmabuf-formats", MFD_CLOEXEC |
		MFD_ALLOW_SEALING);
	if (fd < 0) {
		return false;
	}
	const uint8_t *data = (const uint8_t *)dmabuf->pairs;
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR) {
				continue;
			}
			close(fd);
			return false;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			F_SEAL_SEAL) != 0) {
		close(fd);
		return false;
	}
	dmabuf->table_fd = fd;
	dmabuf->table_size = size;
	return true;
}

struct prism_dmabuf *dmabuf_create(struct prism_server *server) {
	struct wlr_renderer *renderer = server->renderer;
	struct prism_dmabuf *dmabuf = calloc(1, sizeof(*dmabuf));
	if (dmabuf == NULL) {
		return NULL;
	}
	dmabuf->server = server;
	dmabuf->table_fd = -1;
	wl_list_init(&dmabuf->quotas);
	bool ok = true;

	/* Real dmabufs go to EGL where the renderer has it; LINEAR buffers of
	 * the formats the renderer samples from memory are mapped. */
	const struct wlr_drm_format_set *set =
		wlr_renderer_get_dmabuf_texture_formats(renderer);
	int drm_fd = wlr_renderer_get_drm_fd(renderer);
	struct stat st;
	if (set != NULL && wlr_renderer_is_gles2(renderer) && drm_fd >= 0 &&
			fstat(drm_fd, &st) == 0) {
		dmabuf->gpu_import = true;
		dmabuf->main_device = st.st_rdev;
		for (size_t i = 0; i < set->len && ok; i++) {
			const struct wlr_drm_format *f = set->formats[i];
			for (size_t j = 0; j < f->len && ok; j++) {
				ok = add_pair(dmabuf, f->format, f->modifiers[j]);
			}
		}
	}
	size_t n = 0;
	const uint32_t *shm = wlr_renderer_get_shm_texture_formats(renderer, &n);
	for (size_t i = 0; i < n && ok; i++) {
		const struct format_info *info = format_info(shm[i]);
		if (info != NULL && info->planes == 1) {
			ok = add_pair(dmabuf, shm[i], DRM_FORMAT_MOD_LINEAR);
		}
	}
	if (!ok || dmabuf->n_pairs == 0) {
		wlr_log(WLR_ERROR, "dmabuf: %s", ok ? "the renderer takes no "
			"format Prism can check: no zwp_linux_dmabuf_v1" :
			"out of memory");
		free(dmabuf->pairs);
		free(dmabuf);
		return NULL;
	}
	/* Feedback names a device; without one (pixman) version 3 it is. */
	dmabuf->version = dmabuf->gpu_import ? DMABUF_VERSION : 3;
	if (dmabuf->version >= 4 && !make_table(dmabuf)) {
		wlr_log_errno(WLR_ERROR, "dmabuf: cannot make the format table, "
			"offering version 3");
		dmabuf->version = 3;
	}
	dmabuf->global = wl_global_create(server->display,
		&zwp_linux_dmabuf_v1_interface, (int)dmabuf->version, dmabuf,
		dmabuf_bind);
	if (dmabuf->global == NULL) {
		if (dmabuf->table_fd >= 0) {
			close(dmabuf->table_fd);
		}
		free(dmabuf->pairs);
		free(dmabuf);
		return NULL;
	}
	wlr_buffer_register_resource_interface(&buffer_resource_iface);
	wlr_log(WLR_INFO, "dmabuf: zwp_linux_dmabuf_v1 version %" PRIu32 ", %zu "
		"format and modifier pairs, buffers %s", dmabuf->version,
		dmabuf->n_pairs, dmabuf->gpu_import ? "imported by EGL" :
		"mapped (LINEAR only)");
	return dmabuf;
}

void dmabuf_destroy(struct prism_dmabuf *dmabuf) {
	if (dmabuf == NULL) {
		return;
	}
	wl_global_destroy(dmabuf->global);
	if (dmabuf->table_fd >= 0) {
		close(dmabuf->table_fd);
	}
	free(dmabuf->pairs);
	free(dmabuf);
}

void dmabuf_get_stats(const struct prism_dmabuf *dmabuf,
		struct prism_dmabuf_stats *stats) {
	*stats = (struct prism_dmabuf_stats){
		.buffers_alive = counters.alive,
		.buffers_created = counters.created,
		.refused = counters.refused,
	};
	if (dmabuf != NULL) {
		stats->version = dmabuf->version;
		stats->pairs = dmabuf->n_pairs;
		stats->gpu_import = dmabuf->gpu_import;
	}
}
