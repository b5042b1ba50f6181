/* SPDX-License-Identifier: MIT */
/* bridle: run long-running AI agents safely. Include this one header. */
#pragma once

#include "bridle/common.h"
#include "bridle/doctor.h"
#include "bridle/manifest.h"
#include "bridle/mcp.h"
#include "bridle/patch.h"
#include "bridle/run.h"
#include "bridle/sandbox.h"
#include "bridle/scenario.h"
#include "bridle/trace.h"
#include "bridle/eval.h"
