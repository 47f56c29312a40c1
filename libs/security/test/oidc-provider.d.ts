// oidc-provider ships no types; the tests use a small part of it.
declare module 'oidc-provider' {
  export const Provider: any;
  export default Provider;
}
