// TurnCredentials lives in its own module so the relay can use it without the rest of
// OtterCore (JWTKit, Foundation); everything that imports OtterCore still sees it here.
@_exported import OtterTurnCredentials
