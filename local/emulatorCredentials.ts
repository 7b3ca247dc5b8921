/** Emulators accept any credentials; these are placeholders, not secrets. */
export const emulatorCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
