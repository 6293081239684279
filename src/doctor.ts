export async function doctorCli(_argv: string[]): Promise<void> {}
