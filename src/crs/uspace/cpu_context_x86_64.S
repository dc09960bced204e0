/* See cpu_context.h. Offsets follow struct crs_cpu_ctx in image_format.h. */
	.text

	.globl crs_ctx_save
	.type crs_ctx_save, @function
crs_ctx_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	stmxcsr 64(%rdi)
	fnstcw 68(%rdi)
	xorl %eax, %eax
	ret
	.size crs_ctx_save, .-crs_ctx_save

	.globl crs_ctx_resume
	.type crs_ctx_resume, @function
crs_ctx_resume:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	ldmxcsr 64(%rdi)
	fldcw 68(%rdi)
	movq 48(%rdi), %rsp
	movq %rsi, %rax
	jmpq *56(%rdi)
	.size crs_ctx_resume, .-crs_ctx_resume

	/* (ctx, value, fsbase): arch_prctl(ARCH_SET_FS, fsbase), then resume */
	.globl crs_ctx_resume_tls
	.type crs_ctx_resume_tls, @function
crs_ctx_resume_tls:
	movq %rdi, %r8
	movq %rsi, %r9
	movl $158, %eax          /* SYS_arch_prctl */
	movl $0x1002, %edi       /* ARCH_SET_FS */
	movq %rdx, %rsi
	syscall
	movq %r8, %rdi
	movq %r9, %rsi
	jmp crs_ctx_resume
	.size crs_ctx_resume_tls, .-crs_ctx_resume_tls

	/* (clone_args, size, ctx, value) */
	.globl crs_clone3_resume
	.type crs_clone3_resume, @function
crs_clone3_resume:
	movq %rdx, %r8
	movq %rcx, %r9
	movl $435, %eax          /* SYS_clone3 */
	syscall
	testq %rax, %rax
	jnz 1f
	movq %r8, %rdi
	movq %r9, %rsi
	jmp crs_ctx_resume
1:	ret
	.size crs_clone3_resume, .-crs_clone3_resume

	/* (fn, arg, stack_top) */
	.globl crs_call_on_stack
	.type crs_call_on_stack, @function
crs_call_on_stack:
	movq %rdx, %rsp
	andq $-16, %rsp
	movq %rdi, %rax
	movq %rsi, %rdi
	xorl %ebp, %ebp
	call *%rax
	ud2
	.size crs_call_on_stack, .-crs_call_on_stack

	.section .note.GNU-stack,"",@progbits
