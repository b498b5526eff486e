/**
 * The WebGPU provider in software, for tests: Dawn over SwiftShader, the software Vulkan driver that Chromium
 * ships (/usr/lib/chromium/libvk_swiftshader.so with its loader manifest). Call before the first WebGPU session
 * of the process (the Vulkan loader reads VK_ICD_FILENAMES once); vitest runs each test file in its own process.
 * The Vulkan loader itself (libvulkan.so.1) comes from Debian's libvulkan1 (.ci/run installs it).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'

export function useSoftwareWebGpu(): void {
  if (!existsSync(SWIFTSHADER_ICD))
    throw new Error(
      `${SWIFTSHADER_ICD} not found: install Debian's chromium package (it ships SwiftShader), as .ci/run does`
    )
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `plm-sae-xdg-${process.getuid?.() ?? 0}`)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    process.env.XDG_RUNTIME_DIR = dir
  }
}

export const WEBGPU = { device: 'webgpu' as const, deviceId: 0, threads: 2 }
