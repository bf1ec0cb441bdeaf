/* SPDX-License-Identifier: MIT */
/* The smallest child a spawn can start: a static program with no libc that only exits,
 * so a spawn benchmark measures the spawn and not the child's start-up. */
#if defined(__x86_64__)
__attribute__((naked, noreturn)) void _start(void) {
  __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall\n\thlt");
}
#elif defined(__aarch64__)
__attribute__((naked, noreturn)) void _start(void) {
  __asm__ volatile("mov x8, #93\n\tmov x0, #0\n\tsvc 0\n\tbrk #0");
}
#else
#error "tiny_child: no exit sequence for this architecture"
#endif
