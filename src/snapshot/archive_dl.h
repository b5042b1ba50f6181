/* SPDX-License-Identifier: MIT */
/*
 * libarchive, loaded when a snapshot is first written or read (dlopen), not
 * when bridle starts: its dependency chain (libxml2, ICU, libstdc++ ...) cost
 * the CLI about 3 ms at every start. Include this instead of <archive.h>;
 * call bridle__archive_load() at each entry point before any archive_* call.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "bridle/common.h"

#define BRIDLE__ARCHIVE_FUNCS(X) \
        X(archive_entry_filetype) \
        X(archive_entry_free) \
        X(archive_entry_hardlink) \
        X(archive_entry_mtime) \
        X(archive_entry_mtime_nsec) \
        X(archive_entry_new) \
        X(archive_entry_pathname) \
        X(archive_entry_perm) \
        X(archive_entry_rdevmajor) \
        X(archive_entry_rdevminor) \
        X(archive_entry_set_filetype) \
        X(archive_entry_set_mtime) \
        X(archive_entry_set_pathname) \
        X(archive_entry_set_perm) \
        X(archive_entry_set_rdev) \
        X(archive_entry_set_size) \
        X(archive_entry_set_symlink) \
        X(archive_entry_size) \
        X(archive_entry_size_is_set) \
        X(archive_entry_symlink) \
        X(archive_entry_xattr_add_entry) \
        X(archive_entry_xattr_next) \
        X(archive_entry_xattr_reset) \
        X(archive_errno) \
        X(archive_error_string) \
        X(archive_read_data) \
        X(archive_read_free) \
        X(archive_read_new) \
        X(archive_read_next_header) \
        X(archive_read_open) \
        X(archive_read_support_format_tar) \
        X(archive_set_error) \
        X(archive_write_add_filter_none) \
        X(archive_write_close) \
        X(archive_write_data) \
        X(archive_write_free) \
        X(archive_write_header) \
        X(archive_write_new) \
        X(archive_write_open) \
        X(archive_write_set_bytes_in_last_block) \
        X(archive_write_set_bytes_per_block) \
        X(archive_write_set_format_option) \
        X(archive_write_set_format_pax)

struct bridle__archive_api {
#define BRIDLE__ARCHIVE_PTR(f) __typeof__(f) *f;
        BRIDLE__ARCHIVE_FUNCS(BRIDLE__ARCHIVE_PTR)
#undef BRIDLE__ARCHIVE_PTR
};

extern struct bridle__archive_api bridle__archive;

/* 0, or BRIDLE_E_UNSUPPORTED naming the library when it cannot be loaded. */
int bridle__archive_load(bridle_error *err);

#ifndef BRIDLE__ARCHIVE_IMPL
#define archive_entry_filetype (*bridle__archive.archive_entry_filetype)
#define archive_entry_free (*bridle__archive.archive_entry_free)
#define archive_entry_hardlink (*bridle__archive.archive_entry_hardlink)
#define archive_entry_mtime (*bridle__archive.archive_entry_mtime)
#define archive_entry_mtime_nsec (*bridle__archive.archive_entry_mtime_nsec)
#define archive_entry_new (*bridle__archive.archive_entry_new)
#define archive_entry_pathname (*bridle__archive.archive_entry_pathname)
#define archive_entry_perm (*bridle__archive.archive_entry_perm)
#define archive_entry_rdevmajor (*bridle__archive.archive_entry_rdevmajor)
#define archive_entry_rdevminor (*bridle__archive.archive_entry_rdevminor)
#define archive_entry_set_filetype (*bridle__archive.archive_entry_set_filetype)
#define archive_entry_set_mtime (*bridle__archive.archive_entry_set_mtime)
#define archive_entry_set_pathname (*bridle__archive.archive_entry_set_pathname)
#define archive_entry_set_perm (*bridle__archive.archive_entry_set_perm)
#define archive_entry_set_rdev (*bridle__archive.archive_entry_set_rdev)
#define archive_entry_set_size (*bridle__archive.archive_entry_set_size)
#define archive_entry_set_symlink (*bridle__archive.archive_entry_set_symlink)
#define archive_entry_size (*bridle__archive.archive_entry_size)
#define archive_entry_size_is_set (*bridle__archive.archive_entry_size_is_set)
#define archive_entry_symlink (*bridle__archive.archive_entry_symlink)
#define archive_entry_xattr_add_entry (*bridle__archive.archive_entry_xattr_add_entry)
#define archive_entry_xattr_next (*bridle__archive.archive_entry_xattr_next)
#define archive_entry_xattr_reset (*bridle__archive.archive_entry_xattr_reset)
#define archive_errno (*bridle__archive.archive_errno)
#define archive_error_string (*bridle__archive.archive_error_string)
#define archive_read_data (*bridle__archive.archive_read_data)
#define archive_read_free (*bridle__archive.archive_read_free)
#define archive_read_new (*bridle__archive.archive_read_new)
#define archive_read_next_header (*bridle__archive.archive_read_next_header)
#define archive_read_open (*bridle__archive.archive_read_open)
#define archive_read_support_format_tar (*bridle__archive.archive_read_support_format_tar)
#define archive_set_error (*bridle__archive.archive_set_error)
#define archive_write_add_filter_none (*bridle__archive.archive_write_add_filter_none)
#define archive_write_close (*bridle__archive.archive_write_close)
#define archive_write_data (*bridle__archive.archive_write_data)
#define archive_write_free (*bridle__archive.archive_write_free)
#define archive_write_header (*bridle__archive.archive_write_header)
#define archive_write_new (*bridle__archive.archive_write_new)
#define archive_write_open (*bridle__archive.archive_write_open)
#define archive_write_set_bytes_in_last_block (*bridle__archive.archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block (*bridle__archive.archive_write_set_bytes_per_block)
#define archive_write_set_format_option (*bridle__archive.archive_write_set_format_option)
#define archive_write_set_format_pax (*bridle__archive.archive_write_set_format_pax)
#endif
